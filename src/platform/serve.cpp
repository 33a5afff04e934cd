#include "platform/serve.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>

#include <boost/asio/signal_set.hpp>

#include "platform/auth/request_auth.h"
#include "platform/http/http_server.h"
#include "platform/metrics.h"
#include "platform/openai/routes.h"
#include "platform/platform_context.h"
#include "platform/stateful_routes.h"
#include "platform/storage/data_dir_lock.h"
#include "platform/storage/store.h"

namespace agora::platform {

namespace fs = std::filesystem;

namespace {

std::string fingerprint_for(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const uint64_t h = std::hash<std::string>{}(path + "#" + std::to_string(ec ? 0 : size));
  char buf[32];
  std::snprintf(buf, sizeof buf, "fp_%010llx", static_cast<unsigned long long>(h & 0xffffffffffULL));
  return buf;
}

Result<std::unique_ptr<ServedModel>> load_one(const std::string& path, const std::string& id, const ServeOptions& o) {
  auto sm = std::make_unique<ServedModel>();
  sm->id = id;
  std::error_code ec;
  const auto mtime = fs::last_write_time(path, ec);
  sm->created = ec ? 0
                   : std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                         .count();
  sm->fingerprint = fingerprint_for(path);
  auto model = Model::load(path);
  if (!model.ok()) return Status(model.status().code(), path + ": " + model.status().message());
  sm->model = std::move(model.value());
  auto vocab = Vocab::load(sm->model->file());
  if (!vocab.ok()) return Status(vocab.status().code(), path + ": " + vocab.status().message());
  sm->vocab = std::move(vocab.value());
  if (Status s = prepare_chat(*sm); !s.ok()) return Status(s.code(), path + ": " + s.message());
  auto backend = create_local_backend(*sm->model, *sm->vocab, o.backend);
  if (!backend.ok()) return Status(backend.status().code(), path + ": " + backend.status().message());
  sm->backend = std::move(backend.value());
  return sm;
}

// The built web app: --web-dir, else ./web/dist, else web/dist beside the source tree the binary
// was built from (build/<preset>/agora → ../../web/dist). Empty when none has an index.html.
std::string find_web_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  std::vector<fs::path> candidates = {fs::path("web/dist")};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path() / "../../web/dist");
  for (const auto& c : candidates)
    if (fs::is_regular_file(c / "index.html", ec)) return fs::weakly_canonical(c, ec).string();
  return {};
}

}  // namespace

Result<std::unique_ptr<ModelRegistry>> load_models(const ServeOptions& o) {
  std::vector<std::pair<std::string, std::string>> files;  // (path, id)
  for (size_t i = 0; i < o.models.size(); ++i)
    files.emplace_back(o.models[i], i < o.aliases.size() ? o.aliases[i] : fs::path(o.models[i]).stem().string());
  for (const auto& dir : o.models_dirs) {
    std::error_code ec;
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file() && e.path().extension() == ".gguf") found.push_back(e.path());
    if (ec) return Status(ErrorCode::io_error, "cannot read models directory '" + dir + "': " + ec.message());
    std::sort(found.begin(), found.end());
    for (const auto& p : found) files.emplace_back(p.string(), p.stem().string());
  }
  if (files.empty())
    return Status(ErrorCode::invalid_argument,
                  "no models: pass --model FILE.gguf or --models-dir DIR (fetch one with `agora pull REPO/FILE.gguf`)");
  auto reg = std::make_unique<ModelRegistry>();
  for (const auto& [path, id] : files) {
    if (reg->find(id)) return Status(ErrorCode::invalid_argument, "two models have the id '" + id + "'; use --alias");
    auto m = load_one(path, id, o);
    if (!m.ok()) return m.status();
    reg->add(std::move(m.value()));
  }
  return reg;
}

int run_serve(const ServeOptions& o) {
  auto reg = load_models(o);
  if (!reg.ok()) {
    std::fprintf(stderr, "agora serve: %s\n", reg.status().message().c_str());
    return 2;
  }
  // Enough descriptors for max_connections idle sockets.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  // State: open the Store, hold the data directory, settle what a crash left behind.
  // A file can be as large as an upload's body allows (the multipart framing is a few hundred bytes).
  auto store = storage::open_store({.data_dir = o.data_dir, .max_file_bytes = static_cast<int64_t>(o.limits.max_upload_bytes)});
  if (!store) {
    std::fprintf(stderr, "agora serve: data directory %s: %s\n", o.data_dir.c_str(), store.status().message().c_str());
    return 2;
  }
  auto lock = storage::DataDirLock::acquire(o.data_dir);
  if (!lock) {
    std::fprintf(stderr, "agora serve: data directory %s: %s\n", o.data_dir.c_str(), lock.status().message().c_str());
    return 2;
  }
  if (auto rec = (*store)->recover_after_crash(storage::RecoveryPolicy::fail); !rec) {
    std::fprintf(stderr, "agora serve: recovery failed: %s\n", rec.status().message().c_str());
    return 2;
  } else if (!rec->failed.empty() || rec->temp_files_removed || rec->orphan_files_removed) {
    std::fprintf(stderr, "agora serve: recovered after a crash: %zu run(s) failed, %d partial file(s) removed\n",
                 rec->failed.size(), rec->temp_files_removed + rec->orphan_files_removed);
  }
  // Who may call: decided once from the flags, the users in the data directory and the host.
  int64_t n_users = 0;
  if (auto users = (*store)->list_users(); users) {
    for (const auto& u : *users) n_users += u.name != auth::kLocalUserName;
  }
  const auto decision = auth::decide_auth_mode(o.auth, o.no_auth, !o.api_key.empty(), o.host, n_users);
  if (!decision.mode) {
    std::fprintf(stderr, "agora serve: %s\n", decision.log.c_str());
    return 2;
  }
  auth::Authenticator authn(**store, {.mode = *decision.mode, .legacy_api_key = o.api_key});
  if (auto st = authn.init(); !st.ok()) {
    std::fprintf(stderr, "agora serve: %s\n", st.message().c_str());
    return 2;
  }
  std::fprintf(stderr, "agora serve: data in %s; %s\n", o.data_dir.c_str(), decision.log.c_str());

  Metrics metrics;
  OpenAiContext ctx{*reg.value(), metrics, o.limits};
  PlatformContext pctx{*reg.value(), **store, authn, o.limits, find_web_dir(o.web_dir), o.data_dir};
  http::Router router;
  register_openai_routes(router, ctx);
  auto stateful = register_stateful_routes(router, pctx);
  http::HttpServerOptions ho;
  ho.limits = o.limits;
  ho.api_key = o.api_key;
  ho.authenticate = [&authn](http::Exchange& ex) { return authn.authenticate(ex); };
  ho.n_threads = o.http_threads;
  ho.on_response = [&metrics](const std::string& route, unsigned status, double s) { metrics.count_request(route, status, s); };
  ho.on_drain = [&reg] {
    std::fprintf(stderr, "agora serve: draining (new requests get 503)\n");
    for (const auto& m : reg.value()->all()) m->backend->begin_shutdown();
  };
  http::HttpServer server(std::move(ho), std::move(router));
  if (Status s = server.listen(o.host, o.port); !s.ok()) {
    std::fprintf(stderr, "agora serve: %s\n", s.message().c_str());
    return 1;
  }
  boost::asio::signal_set signals(server.io(), SIGTERM, SIGINT);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    server.begin_drain();
    signals.async_wait(on_signal);  // a second signal during the drain is absorbed
  };
  signals.async_wait(on_signal);
  std::fprintf(stderr, "agora serve: %zu model(s): ", reg.value()->all().size());
  for (const auto& m : reg.value()->all()) std::fprintf(stderr, "%s%s", m->id.c_str(), m->chatml_fallback ? " (ChatML) " : " ");
  std::fprintf(stderr, "\nagora serve: listening on http://%s:%u\n", o.host.c_str(), server.port());
  std::fflush(stderr);
  if (o.on_listening) o.on_listening(server.port());
  server.run();
  signals.cancel();
  // Backends first: their last events are posted to the (stopped) io_context, which must exist.
  stateful->stop_background();  // the run loop's turns end while their backends still exist
  for (const auto& m : reg.value()->all()) m->backend.reset();
  stateful.reset();  // after the backends: their last events end the responses still running
  std::fprintf(stderr, "agora serve: drained, exiting\n");
  return 0;
}

}  // namespace agora::platform
