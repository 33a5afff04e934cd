// /v1/files: multipart upload streamed from the socket to the Store (a streamed route: the body
// is never whole in memory), list (purpose filter, cursor pagination), retrieve, content, delete.
#include <algorithm>
#include <functional>
#include <span>
#include <vector>

#include "platform/assistants/assistants_request.h"
#include "platform/assistants/multipart.h"
#include "platform/assistants/route_util.h"
#include "platform/assistants/upload_spool.h"

namespace agora::platform::assistants {

namespace bhttp = boost::beast::http;
using nlohmann::json;

namespace {

constexpr size_t kReadBytes = 64 * 1024;    // one read from the connection
constexpr size_t kFlushBytes = 256 * 1024;  // file bytes handed to the Store (or spool) at a time
constexpr size_t kMaxFilenameBytes = 255;
constexpr size_t kMaxFieldBytes = 1024;     // a text field (`purpose`)

bool known_purpose(const std::string& p) {
  static const char* kPurposes[] = {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"};
  return std::any_of(std::begin(kPurposes), std::end(kPurposes), [&](const char* k) { return p == k; });
}

ApiError bad_purpose(const std::string& p) {
  return ApiError::invalid("purpose", "'" + p +
                                          "' is not a valid purpose: use assistants, batch, fine-tune, vision, user_data or evals.");
}

// The upload's form as the multipart parser finds it: the first `file` part's bytes collect in
// `pending` (at most kFlushBytes plus one read before the handler hands them on), the first
// `purpose` part's text in `purpose`; other parts are skipped.
class UploadForm final : public MultipartSink {
 public:
  UploadForm() { pending.reserve(kFlushBytes + kReadBytes + kMaxBoundaryBytes + 8); }

  void on_part_begin(const MultipartPartHead& head) override {
    target_ = Target::skip;
    if (head.name == "file" && !file_seen) {
      target_ = Target::file;
      file_seen = true;
      filename = head.filename.value_or("");
      if (filename.empty()) filename = "upload";
      filename_too_long = filename.size() > kMaxFilenameBytes;
    } else if (head.name == "purpose" && !purpose && !purpose_too_long) {
      target_ = Target::purpose;
      field_.clear();
    }
  }
  void on_part_data(std::string_view bytes) override {
    if (target_ == Target::file && !filename_too_long) {
      pending.append(bytes);
    } else if (target_ == Target::purpose) {
      if (field_.size() + bytes.size() > kMaxFieldBytes) purpose_too_long = true;
      else field_.append(bytes);
    }
  }
  void on_part_end() override {
    if (target_ == Target::file) file_done = true;
    if (target_ == Target::purpose && !purpose_too_long) purpose = field_;
    target_ = Target::skip;
  }

  // An error that is certain before the body ends.
  std::optional<ApiError> early_error() const {
    if (purpose_too_long) return ApiError::invalid("purpose", "'purpose' is longer than 1024 bytes.");
    if (purpose && !known_purpose(*purpose)) return bad_purpose(*purpose);
    if (filename_too_long) return ApiError::invalid("file", "The file name is longer than 255 bytes.");
    return std::nullopt;
  }
  // What the whole form lacks, in the order the checks were always made.
  std::optional<ApiError> final_error() const {
    if (auto e = early_error()) return e;
    if (!purpose) return ApiError::invalid("purpose", "'purpose' is required.");
    if (!file_seen) return ApiError::invalid("file", "'file' is required (a multipart file part).");
    return std::nullopt;
  }

  bool file_seen = false, file_done = false, filename_too_long = false, purpose_too_long = false;
  std::string filename;
  std::optional<std::string> purpose;
  std::string pending;

 private:
  enum class Target { skip, file, purpose };
  Target target_ = Target::skip;
  std::string field_;
};

// The Store side of one upload. Every method does disk I/O: run them through Exchange::run_blocking.
struct UploadSink {
  AssistantsContext& ctx;
  storage::Owner owner;
  UploadForm& form;
  std::unique_ptr<storage::FileUpload> upload;  // destroyed uncommitted: its bytes are discarded
  std::unique_ptr<UploadSpool> spool;           // while the purpose is not known yet
  storage::StoreStatus status;
  std::optional<storage::FileObject> committed;

  bool begin() {
    auto u = ctx.store.begin_file(owner, form.filename, *form.purpose);
    if (!u) {
      status = u.status();
      return false;
    }
    upload = std::move(u.value());
    return true;
  }
  // Hands form.pending on: to the Store when the purpose is known, else to the spool.
  void flush() {
    if (!upload && !spool) {
      if (form.purpose) {
        if (!begin()) return;
      } else {
        auto s = UploadSpool::create(ctx.upload_spool_dir);
        if (!s) {
          status = s.status();
          return;
        }
        spool = std::move(s.value());
      }
    }
    status = upload ? upload->write(form.pending) : spool->write(form.pending);
    form.pending.clear();
  }
  // The body is complete and the form valid: spooled bytes into the Store, the rest, commit.
  void finish() {
    if (!upload) {
      if (!begin()) return;
      if (spool) {
        std::vector<char> buf(kFlushBytes);
        for (int64_t off = 0; off < spool->size();) {
          auto n = spool->read_at(off, buf.data(), buf.size());
          if (!n) {
            status = n.status();
            return;
          }
          if (*n == 0) break;
          if (status = upload->write(std::string_view(buf.data(), *n)); !status.ok()) return;
          off += static_cast<int64_t>(*n);
        }
        spool.reset();
      }
    }
    if (!form.pending.empty()) {
      if (status = upload->write(form.pending); !status.ok()) return;
      form.pending.clear();
    }
    auto c = upload->commit();
    if (!c) {
      status = c.status();
      return;
    }
    committed = std::move(c.value());
  }
};

// POST /v1/files. The body streams through the multipart parser; file bytes go to the Store in
// kFlushBytes pieces on the blocking pool. A 400 found mid-body is answered after the rest of the
// body has been read (the connection stays usable); a body error (too large, stalled, client
// gone) or a Store failure is answered at once and ends the connection. Either way the
// FileUpload is destroyed uncommitted and nothing becomes visible.
boost::asio::awaitable<void> upload_file(http::Exchange& ex, AssistantsContext& ctx) {
  auto owner = require_owner(ex, ctx);
  if (!owner) co_return;
  auto boundary = multipart_boundary(ex.request()[bhttp::field::content_type]);
  if (!boundary.ok()) {
    ex.set_error(boundary.error());
    co_return;
  }
  MultipartParser parser(boundary.value());
  UploadForm form;
  UploadSink sink{ctx, *owner, form, nullptr, nullptr, {}, std::nullopt};
  const std::function<void()> flush = [&sink] { sink.flush(); };
  const std::function<void()> finish = [&sink] { sink.finish(); };
  std::optional<ApiError> failure;  // a 400 to answer once the body has been read
  std::vector<char> buf(kReadBytes);
  http::BodyStream* body = ex.body_stream();
  bool whole_done = false;  // registered without streaming: ex.body() is the one chunk
  for (;;) {
    std::string_view chunk;
    if (body) {
      const http::BodyRead r = co_await body->read(std::span<char>(buf.data(), buf.size()));
      if (r.error != http::BodyError::none) {
        ex.set_error(http::body_error(r.error, ex.limits()));
        co_return;
      }
      chunk = std::string_view(buf.data(), r.n);
    } else if (!whole_done) {
      whole_done = true;
      chunk = ex.body();
    }
    if (chunk.empty()) break;
    if (failure) continue;  // reading the rest before answering
    for (size_t off = 0; off < chunk.size() && !failure; off += kReadBytes) {
      if (!parser.feed(chunk.substr(off, kReadBytes), form)) failure = parser.error();
      else failure = form.early_error();
      if (!failure && form.pending.size() >= kFlushBytes) {
        co_await ex.run_blocking(flush);
        if (!sink.status.ok()) {
          ex.set_error(api_error_for(sink.status, "file"));
          co_return;
        }
      }
    }
  }
  if (!failure && !parser.finish()) failure = parser.error();
  if (!failure) failure = form.final_error();
  if (failure) {
    ex.set_error(*failure);
    co_return;
  }
  co_await ex.run_blocking(finish);
  if (!sink.committed) {
    ex.set_error(api_error_for(sink.status, "file"));
    co_return;
  }
  send_json(ex, file_json(*sink.committed));
}

void list_files(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  const std::string target = target_of(ex);
  auto page = parse_page(target);
  if (!page.ok()) return ex.set_error(page.error());
  if (!query_param(target, "limit")) page.value().limit = storage::kMaxPageLimit;  // OpenAI lists up to 10,000; we page by 100
  const std::string purpose = query_param(target, "purpose").value_or("");
  auto files = ctx.store.list_files(owner, purpose, page.value());
  if (!files) return send_store_error(ex, files.status(), "file", page.value().after + page.value().before);
  send_json(ex, list_json(files.value(), file_json));
}

void get_file(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto f = ctx.store.get_file(owner, ex.path_params[0]);
  if (!f) return send_store_error(ex, f.status(), "file", ex.path_params[0]);
  send_json(ex, file_json(f.value()));
}

// The file's bytes, streamed: 256 KiB at a time read on the blocking pool and written with a
// Content-Length head, so a 512 MiB file never sits in memory.
boost::asio::awaitable<void> file_content(http::Exchange& ex, AssistantsContext& ctx) {
  auto owner = require_owner(ex, ctx);
  if (!owner) co_return;
  const std::string id = ex.path_params[0];
  auto opened = ctx.store.open_file_content(*owner, id);
  if (!opened) {
    send_store_error(ex, opened.status(), "file", id);
    co_return;
  }
  std::unique_ptr<storage::BlobReader> reader = std::move(opened.value());
  const auto total = static_cast<uint64_t>(reader->size());
  if (!co_await ex.begin_body(200, "application/octet-stream", total)) co_return;
  constexpr size_t kPiece = 256 * 1024;
  std::string buf(kPiece, '\0');
  size_t got = 0;
  bool read_ok = true;
  const std::function<void()> read_piece = [&] {
    auto n = reader->read(buf.data(), buf.size());
    read_ok = n.ok();
    got = n.ok() ? n.value() : 0;
  };
  for (uint64_t sent = 0; sent < total;) {
    co_await ex.run_blocking(read_piece);
    if (!read_ok || got == 0) {
      // The head is out: a short body (and a closed connection) is all that is left to say.
      ex.close_after();
      co_return;
    }
    const std::string_view piece(buf.data(), got);
    if (!co_await ex.send_body(piece)) co_return;
    sent += got;
  }
}

void delete_file(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto st = ctx.store.delete_file(owner, ex.path_params[0]);
  if (!st.ok()) return send_store_error(ex, st, "file", ex.path_params[0]);
  send_json(ex, deleted_json(ex.path_params[0], "file"));
}

}  // namespace

void register_file_routes(http::Router& router, AssistantsContext& ctx) {
  router.add_streaming(bhttp::verb::post, "/v1/files", [c = &ctx](http::Exchange& ex) { return upload_file(ex, *c); });
  add_sync<&list_files>(router, bhttp::verb::get, "/v1/files", ctx);
  add_sync<&get_file>(router, bhttp::verb::get, "/v1/files/{}", ctx);
  router.add(bhttp::verb::get, "/v1/files/{}/content", [c = &ctx](http::Exchange& ex) { return file_content(ex, *c); });
  add_sync<&delete_file>(router, bhttp::verb::delete_, "/v1/files/{}", ctx);
}

void register_assistants_routes(http::Router& router, AssistantsContext& ctx) {
  register_file_routes(router, ctx);
  register_run_routes(router, ctx);  // first: POST /v1/threads/runs before POST /v1/threads/{}
  register_thread_routes(router, ctx);
}

}  // namespace agora::platform::assistants
