// The Assistants v2 API over real HTTP in-process: the routes, the RunLoop and a SQLite Store in a
// scratch directory, with a FakeBackend behind the stories260K tokenizer. Files (multipart),
// assistants CRUD and pagination, threads and messages, runs polled to completion, streamed runs
// with OpenAI's event names, a function-calling round trip through submit_tool_outputs, cancel,
// requires_action expiry, a second active run (400), limits (metadata), and a tenancy walk over
// every endpoint with a second user's key (404, nothing changed).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <thread>

#include "platform/assistants/assistants_routes.h"
#include "platform/runs/run_loop.h"
#include "platform/test_http.h"

namespace agora::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class AsstServer {
 public:
  explicit AsstServer(FakeBackend::Options fo = {}, platform::runs::RunLoopOptions ro = {}) {
    dir_ = (fs::temp_directory_path() / ("agora-asst-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++))).string();
    fs::remove_all(dir_);
    auto s = storage::open_store({.data_dir = dir_});
    EXPECT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s.value());
    for (const char* name : {"alice", "bob"}) {
      auto u = store_->create_user(name, std::nullopt, "");
      EXPECT_TRUE(u.ok());
      users_[std::string("sk-") + name] = u->id;
    }
    auto m = std::make_unique<platform::ServedModel>();
    m->id = "fake";
    auto v = Vocab::load_file(testdata_path("models/stories260K.gguf"));
    EXPECT_TRUE(v.ok());
    m->vocab = std::move(v.value());
    auto b = std::make_unique<FakeBackend>(fo);
    backend_ = b.get();
    m->backend = std::move(b);
    EXPECT_TRUE(platform::prepare_chat(*m).ok());
    registry_.add(std::move(m));
    loop_ = std::make_unique<platform::runs::RunLoop>(*store_, registry_, ro);
    loop_->start();
    ctx_ = std::make_unique<platform::assistants::AssistantsContext>(platform::assistants::AssistantsContext{
        *store_, registry_, *loop_, {}, [this](const platform::http::Exchange& ex) -> std::optional<storage::Owner> {
          std::string auth(ex.request()[boost::beast::http::field::authorization]);
          if (!auth.starts_with("Bearer ")) return std::nullopt;
          auto it = users_.find(auth.substr(7));
          if (it == users_.end()) return std::nullopt;
          return storage::Owner(it->second);
        }});
    platform::http::Router router;
    platform::assistants::register_assistants_routes(router, *ctx_);
    platform::http::HttpServerOptions ho;
    server_ = std::make_unique<platform::http::HttpServer>(std::move(ho), std::move(router));
    EXPECT_TRUE(server_->listen("127.0.0.1", 0).ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  ~AsstServer() {
    server_->stop();
    thread_.join();
    loop_->stop();
    for (const auto& m : registry_.all()) m->backend.reset();
    loop_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }

  HttpResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& key = "sk-alice", const std::string& content_type = "application/json") {
    std::string raw = method + " " + path + " HTTP/1.1\r\nHost: x\r\nOpenAI-Beta: assistants=v2\r\n";
    if (!key.empty()) raw += "Authorization: Bearer " + key + "\r\n";
    if (!body.empty() || method == "POST")
      raw += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    raw += "\r\n" + body;
    return roundtrip(server_->port(), raw);
  }
  json ok(const std::string& method, const std::string& path, const json& body = nullptr, const std::string& key = "sk-alice") {
    auto r = call(method, path, body.is_null() ? "" : body.dump(), key);
    EXPECT_EQ(r.status, 200) << method << " " << path << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json() : j;
  }
  json wait_run(const std::string& thread, const std::string& run, const std::string& until_not = "") {
    json r;
    for (int i = 0; i < 500; ++i) {
      r = ok("GET", "/v1/threads/" + thread + "/runs/" + run);
      const std::string s = r.value("status", "");
      if (s != "queued" && s != "in_progress" && s != "cancelling" && s != until_not) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "run did not settle: " << r.dump();
    return r;
  }

  storage::Store& store() { return *store_; }
  platform::runs::RunLoop& loop() { return *loop_; }
  FakeBackend& backend() { return *backend_; }

 private:
  std::string dir_;
  std::unique_ptr<storage::Store> store_;
  std::map<std::string, std::string> users_;
  platform::ModelRegistry registry_;
  FakeBackend* backend_ = nullptr;
  std::unique_ptr<platform::runs::RunLoop> loop_;
  std::unique_ptr<platform::assistants::AssistantsContext> ctx_;
  std::unique_ptr<platform::http::HttpServer> server_;
  std::thread thread_;
};

struct Sse {
  std::string event;
  json data;
  std::string raw;
};

std::vector<Sse> named_events(const std::string& body) {
  std::vector<Sse> out;
  size_t pos = 0;
  while ((pos = body.find("event: ", pos)) != std::string::npos) {
    const size_t nl = body.find('\n', pos);
    Sse e;
    e.event = body.substr(pos + 7, nl - pos - 7);
    const size_t d = body.find("data: ", nl);
    const size_t end = body.find("\n\n", d);
    e.raw = body.substr(d + 6, end - d - 6);
    e.data = json::parse(e.raw, nullptr, false);
    out.push_back(std::move(e));
    pos = end;
  }
  return out;
}

std::vector<std::string> names(const std::vector<Sse>& evs) {
  std::vector<std::string> n;
  for (const auto& e : evs) n.push_back(e.event);
  return n;
}

std::string multipart(const std::string& boundary, const std::string& purpose, const std::string& filename,
                      const std::string& bytes) {
  std::string b = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose + "\r\n";
  b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
       "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n--" + boundary + "--\r\n";
  return b;
}

FakeBackend::Options words(std::vector<std::string> texts) {
  FakeBackend::Options o;
  o.n_words = static_cast<int>(texts.size());
  o.texts = std::move(texts);
  o.script.clear();
  for (size_t i = 0; i < o.texts.size(); ++i) o.script.push_back(static_cast<int32_t>(100 + i));
  o.n_ctx = 4096;
  return o;
}

TEST(AssistantsApi, FilesUploadListContentDelete) {
  AsstServer s;
  std::string bytes(200000, 'x');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  auto up = s.call("POST", "/v1/files", multipart("b0und", "assistants", "data.bin", bytes), "sk-alice",
                   "multipart/form-data; boundary=b0und");
  ASSERT_EQ(up.status, 200) << up.body;
  json f = json::parse(up.body);
  EXPECT_EQ(f["object"], "file");
  EXPECT_EQ(f["bytes"], 200000);
  EXPECT_EQ(f["filename"], "data.bin");
  const std::string id = f["id"];
  EXPECT_EQ(s.call("GET", "/v1/files/" + id + "/content").body, bytes);
  EXPECT_EQ(s.ok("GET", "/v1/files?purpose=assistants")["data"].size(), 1u);
  EXPECT_EQ(s.ok("GET", "/v1/files?purpose=batch")["data"].size(), 0u);
  // Errors: unknown purpose, no file part, not multipart.
  EXPECT_EQ(s.call("POST", "/v1/files", multipart("b", "nope", "a", "x"), "sk-alice", "multipart/form-data; boundary=b").status, 400);
  EXPECT_EQ(s.call("POST", "/v1/files", "{}", "sk-alice").status, 415);
  // Another user sees nothing.
  EXPECT_EQ(s.call("GET", "/v1/files/" + id, "", "sk-bob").status, 404);
  EXPECT_EQ(s.call("GET", "/v1/files/" + id + "/content", "", "sk-bob").status, 404);
  EXPECT_EQ(s.call("DELETE", "/v1/files/" + id, "", "sk-bob").status, 404);
  EXPECT_EQ(s.ok("GET", "/v1/files", nullptr, "sk-bob")["data"].size(), 0u);
  EXPECT_EQ(s.ok("DELETE", "/v1/files/" + id)["deleted"], true);
  EXPECT_EQ(s.call("GET", "/v1/files/" + id).status, 404);
  EXPECT_EQ(s.call("GET", "/v1/files", "", "").status, 401);
}

TEST(AssistantsApi, AssistantsCrudPaginationAndLimits) {
  AsstServer s;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(s.ok("POST", "/v1/assistants", {{"model", "fake"}, {"name", "a" + std::to_string(i)}})["id"]);
  json page = s.ok("GET", "/v1/assistants?limit=2&order=asc");
  ASSERT_EQ(page["data"].size(), 2u);
  EXPECT_EQ(page["data"][0]["id"], ids[0]);
  EXPECT_TRUE(page["has_more"]);
  json next = s.ok("GET", "/v1/assistants?limit=2&order=asc&after=" + page["last_id"].get<std::string>());
  EXPECT_EQ(next["data"][0]["id"], ids[2]);
  EXPECT_EQ(s.ok("GET", "/v1/assistants?limit=10&before=" + ids[0])["data"].size(), 4u);  // desc: newer than ids[0]
  json mod = s.ok("POST", "/v1/assistants/" + ids[1], {{"instructions", "Be brief."}, {"metadata", {{"k", "v"}}}});
  EXPECT_EQ(mod["instructions"], "Be brief.");
  EXPECT_EQ(mod["name"], "a1");
  EXPECT_EQ(mod["metadata"]["k"], "v");
  json meta = json::object();
  for (int i = 0; i < 17; ++i) meta["k" + std::to_string(i)] = "v";
  EXPECT_EQ(s.call("POST", "/v1/assistants", json{{"model", "fake"}, {"metadata", meta}}.dump()).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/assistants", json{{"model", "fake"}, {"metadata", {{"k", std::string(513, 'v')}}}}.dump()).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/assistants", json{{"model", "nope"}}.dump()).status, 404);
  EXPECT_EQ(s.call("POST", "/v1/assistants", json{{"name", "x"}}.dump()).status, 400);
  EXPECT_EQ(s.call("GET", "/v1/assistants?limit=101").status, 400);
  EXPECT_EQ(s.call("GET", "/v1/assistants?order=up").status, 400);
  EXPECT_EQ(s.ok("DELETE", "/v1/assistants/" + ids[4])["object"], "assistant.deleted");
  EXPECT_EQ(s.call("GET", "/v1/assistants/" + ids[4]).status, 404);
}

TEST(AssistantsApi, RunToCompletionWithStepsAndUsage) {
  AsstServer s(words({"Hello", " world", "!"}));
  const std::string asst = s.ok("POST", "/v1/assistants", {{"model", "fake"}, {"instructions", "Be kind."}})["id"];
  json thread = s.ok("POST", "/v1/threads", {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}});
  const std::string tid = thread["id"];
  json run = s.ok("POST", "/v1/threads/" + tid + "/runs", {{"assistant_id", asst}});
  EXPECT_EQ(run["status"], "queued");
  json done = s.wait_run(tid, run["id"]);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  EXPECT_GT(done["usage"]["completion_tokens"].get<int>(), 0);
  EXPECT_EQ(done["instructions"], "Be kind.");
  json msgs = s.ok("GET", "/v1/threads/" + tid + "/messages");
  ASSERT_EQ(msgs["data"].size(), 2u);
  EXPECT_EQ(msgs["data"][0]["role"], "assistant");
  EXPECT_EQ(msgs["data"][0]["content"][0]["text"]["value"], "Hello world!");
  EXPECT_EQ(msgs["data"][0]["run_id"], run["id"]);
  json steps = s.ok("GET", "/v1/threads/" + tid + "/runs/" + run["id"].get<std::string>() + "/steps");
  ASSERT_EQ(steps["data"].size(), 1u);
  EXPECT_EQ(steps["data"][0]["type"], "message_creation");
  EXPECT_EQ(steps["data"][0]["status"], "completed");
  EXPECT_EQ(steps["data"][0]["step_details"]["message_creation"]["message_id"], msgs["data"][0]["id"]);
  EXPECT_EQ(s.ok("GET", "/v1/threads/" + tid + "/messages?run_id=" + run["id"].get<std::string>())["data"].size(), 1u);
  // max_completion_tokens → incomplete with the reason.
  json capped = s.ok("POST", "/v1/threads/" + tid + "/runs", {{"assistant_id", asst}, {"max_completion_tokens", 2}});
  json c = s.wait_run(tid, capped["id"]);
  EXPECT_EQ(c["status"], "incomplete") << c.dump();
  EXPECT_EQ(c["incomplete_details"]["reason"], "max_completion_tokens");
  // A tool this server cannot run yet fails the run with a clear error.
  json fs_run = s.ok("POST", "/v1/threads/" + tid + "/runs", {{"assistant_id", asst}, {"tools", {{{"type", "file_search"}}}}});
  json f = s.wait_run(tid, fs_run["id"]);
  EXPECT_EQ(f["status"], "failed");
  EXPECT_NE(f["last_error"]["message"].get<std::string>().find("file_search"), std::string::npos);
}

TEST(AssistantsApi, StreamedRunUsesOpenAiEvents) {
  AsstServer s(words({"Hello", " world", "!"}));
  const std::string asst = s.ok("POST", "/v1/assistants", {{"model", "fake"}})["id"];
  auto r = s.call("POST", "/v1/threads/runs",
                  json{{"assistant_id", asst}, {"stream", true}, {"thread", {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}}}}.dump());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"].rfind("text/event-stream", 0), 0u);
  auto evs = named_events(r.body);
  const std::vector<std::string> want = {"thread.created", "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                                         "thread.run.step.created", "thread.run.step.in_progress", "thread.message.created",
                                         "thread.message.in_progress"};
  auto got = names(evs);
  ASSERT_GE(got.size(), want.size() + 4) << r.body;
  EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + want.size()), want);
  std::string text;
  for (const auto& e : evs)
    if (e.event == "thread.message.delta") text += e.data["delta"]["content"][0]["text"]["value"].get<std::string>();
  EXPECT_EQ(text, "Hello world!");
  EXPECT_EQ(got[got.size() - 4], "thread.message.completed");
  EXPECT_EQ(got[got.size() - 3], "thread.run.step.completed");
  EXPECT_EQ(got[got.size() - 2], "thread.run.completed");
  EXPECT_EQ(got.back(), "done");
  EXPECT_EQ(evs.back().raw, "[DONE]");
}

TEST(AssistantsApi, FunctionCallRoundTripCancelAndSecondActiveRun) {
  AsstServer s(words({"{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": \"Paris\"}}"}));
  json tools = {{{"type", "function"},
                 {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}}}};
  const std::string asst = s.ok("POST", "/v1/assistants", {{"model", "fake"}, {"tools", tools}})["id"];
  const std::string tid = s.ok("POST", "/v1/threads", {{"messages", {{{"role", "user"}, {"content", "Weather?"}}}}})["id"];
  auto r = s.call("POST", "/v1/threads/" + tid + "/runs",
                  json{{"assistant_id", asst}, {"stream", true}, {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_weather"}}}}}}.dump());
  auto evs = named_events(r.body);
  ASSERT_GE(evs.size(), 3u) << r.body;
  EXPECT_EQ(evs[evs.size() - 2].event, "thread.run.requires_action") << r.body;
  json run = evs[evs.size() - 2].data;
  const std::string rid = run["id"];
  json calls = run["required_action"]["submit_tool_outputs"]["tool_calls"];
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(json::parse(calls[0]["function"]["arguments"].get<std::string>())["city"], "Paris");
  EXPECT_GT(run["expires_at"].get<int64_t>(), 0);
  // The step deltas assemble the arguments.
  std::string args;
  for (const auto& e : evs)
    if (e.event == "thread.run.step.delta") args += e.data["delta"]["step_details"]["tool_calls"][0]["function"].value("arguments", "");
  EXPECT_EQ(args, calls[0]["function"]["arguments"]);
  // A second run on the thread, and a message, are refused while this one waits.
  EXPECT_EQ(s.call("POST", "/v1/threads/" + tid + "/runs", json{{"assistant_id", asst}}.dump()).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/threads/" + tid + "/messages", json{{"role", "user"}, {"content", "x"}}.dump()).status, 400);
  // Wrong outputs are refused; the right ones resume the run (streamed) to completion.
  EXPECT_EQ(s.call("POST", "/v1/threads/" + tid + "/runs/" + rid + "/submit_tool_outputs",
                   json{{"tool_outputs", {{{"tool_call_id", "call_nope"}, {"output", "x"}}}}}.dump()).status, 400);
  auto sub = s.call("POST", "/v1/threads/" + tid + "/runs/" + rid + "/submit_tool_outputs",
                    json{{"stream", true}, {"tool_outputs", {{{"tool_call_id", calls[0]["id"]}, {"output", "sunny"}}}}}.dump());
  ASSERT_EQ(sub.status, 200) << sub.body;
  auto sevs = named_events(sub.body);
  ASSERT_GE(sevs.size(), 3u) << sub.body;
  EXPECT_EQ(sevs[0].event, "thread.run.step.completed");
  EXPECT_EQ(sevs[0].data["step_details"]["tool_calls"][0]["function"]["output"], "sunny");
  EXPECT_EQ(sevs[sevs.size() - 2].event, "thread.run.completed") << sub.body;
  json steps = s.ok("GET", "/v1/threads/" + tid + "/runs/" + rid + "/steps?order=asc");
  ASSERT_EQ(steps["data"].size(), 2u);
  EXPECT_EQ(steps["data"][0]["type"], "tool_calls");
  EXPECT_EQ(steps["data"][1]["type"], "message_creation");
  // Cancel: a run waiting for outputs is cancelled at once; a finished one cannot be.
  json again = s.ok("POST", "/v1/threads/" + tid + "/runs",
                    {{"assistant_id", asst}, {"tool_choice", "required"}});
  json waiting = s.wait_run(tid, again["id"]);
  ASSERT_EQ(waiting["status"], "requires_action");
  EXPECT_EQ(s.ok("POST", "/v1/threads/" + tid + "/runs/" + again["id"].get<std::string>() + "/cancel")["status"], "cancelled");
  EXPECT_EQ(s.call("POST", "/v1/threads/" + tid + "/runs/" + rid + "/cancel").status, 400);
}

TEST(AssistantsApi, CancelInProgressAndExpiry) {
  FakeBackend::Options slow;
  slow.tick = std::chrono::milliseconds(20);
  slow.n_ctx = 4096;
  AsstServer s(slow, {.n_workers = 2, .requires_action_timeout = std::chrono::seconds(1), .sweep_interval = std::chrono::milliseconds(100)});
  const std::string asst = s.ok("POST", "/v1/assistants", {{"model", "fake"}})["id"];
  const std::string tid = s.ok("POST", "/v1/threads", {{"messages", {{{"role", "user"}, {"content", "Go"}}}}})["id"];
  json run = s.ok("POST", "/v1/threads/" + tid + "/runs", {{"assistant_id", asst}});
  const std::string rid = run["id"];
  for (int i = 0; i < 200 && s.ok("GET", "/v1/threads/" + tid + "/runs/" + rid)["status"] != "in_progress"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  json c = s.ok("POST", "/v1/threads/" + tid + "/runs/" + rid + "/cancel");
  // "cancelling" until the worker stops the turn; on a loaded machine it may already have.
  EXPECT_TRUE(c["status"] == "cancelling" || c["status"] == "cancelled") << c.dump();
  json done = s.wait_run(tid, rid);
  EXPECT_EQ(done["status"], "cancelled") << done.dump();
  json msgs = s.ok("GET", "/v1/threads/" + tid + "/messages?run_id=" + rid);
  for (const auto& m : msgs["data"]) EXPECT_EQ(m["status"], "incomplete");

  // requires_action past expires_at → expired (the sweeper), its step expired too.
  storage::Owner owner(s.store().list_users()->at(0).id);
  auto r = s.store().get_run(owner, tid, rid);
  ASSERT_TRUE(r.ok());
  storage::Run waiting = *s.store().create_run(owner, [&] {
    storage::Run d = *r;
    return d;
  }());
  storage::Run moved = waiting;
  moved.status = storage::RunStatus::in_progress;
  moved = *s.store().update_run(owner, moved, storage::RunStatus::queued);
  moved.status = storage::RunStatus::requires_action;
  moved.expires_at = 1;
  ASSERT_TRUE(s.store().update_run(owner, moved, storage::RunStatus::in_progress).ok());
  json e;
  for (int i = 0; i < 100; ++i) {
    e = s.ok("GET", "/v1/threads/" + tid + "/runs/" + waiting.id);
    if (e["status"] == "expired") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(e["status"], "expired");
}

// Every endpoint, as a second user, on the first user's objects: 404, and nothing changes.
TEST(AssistantsApi, TenancyWalkOverEveryEndpoint) {
  AsstServer s(words({"{\"name\": \"f\", ", "\"arguments\": {}}"}));
  json tools = {{{"type", "function"}, {"function", {{"name", "f"}}}}};
  const std::string asst = s.ok("POST", "/v1/assistants", {{"model", "fake"}, {"tools", tools}})["id"];
  const std::string tid = s.ok("POST", "/v1/threads", {{"messages", {{{"role", "user"}, {"content", "x"}}}}})["id"];
  const std::string mid = s.ok("GET", "/v1/threads/" + tid + "/messages")["data"][0]["id"];
  json run = s.ok("POST", "/v1/threads/" + tid + "/runs", {{"assistant_id", asst}, {"tool_choice", "required"}});
  const std::string rid = run["id"];
  json waiting = s.wait_run(tid, rid);
  ASSERT_EQ(waiting["status"], "requires_action");
  const std::string call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"];
  const std::string sid = s.ok("GET", "/v1/threads/" + tid + "/runs/" + rid + "/steps")["data"][0]["id"];
  auto up = s.call("POST", "/v1/files", multipart("b", "assistants", "a.txt", "secret"), "sk-alice", "multipart/form-data; boundary=b");
  const std::string fid = json::parse(up.body)["id"];

  const std::string T = "/v1/threads/" + tid, R = T + "/runs/" + rid;
  const std::vector<std::tuple<std::string, std::string, std::string>> probes = {
      {"GET", "/v1/files/" + fid, ""},
      {"GET", "/v1/files/" + fid + "/content", ""},
      {"DELETE", "/v1/files/" + fid, ""},
      {"GET", "/v1/assistants/" + asst, ""},
      {"POST", "/v1/assistants/" + asst, R"({"name":"pwned"})"},
      {"DELETE", "/v1/assistants/" + asst, ""},
      {"GET", T, ""},
      {"POST", T, R"({"metadata":{"a":"b"}})"},
      {"DELETE", T, ""},
      {"POST", T + "/messages", R"({"role":"user","content":"x"})"},
      {"GET", T + "/messages", ""},
      {"GET", T + "/messages/" + mid, ""},
      {"POST", T + "/messages/" + mid, R"({"metadata":{"a":"b"}})"},
      {"DELETE", T + "/messages/" + mid, ""},
      {"POST", T + "/runs", json{{"assistant_id", asst}}.dump()},
      {"POST", "/v1/threads/runs", json{{"assistant_id", asst}}.dump()},
      {"GET", T + "/runs", ""},
      {"GET", R, ""},
      {"POST", R, R"({"metadata":{"a":"b"}})"},
      {"POST", R + "/cancel", ""},
      {"POST", R + "/submit_tool_outputs", json{{"tool_outputs", {{{"tool_call_id", call_id}, {"output", "x"}}}}}.dump()},
      {"GET", R + "/steps", ""},
      {"GET", R + "/steps/" + sid, ""},
  };
  for (const auto& [method, path, body] : probes) {
    auto r = s.call(method, path, body, "sk-bob");
    EXPECT_EQ(r.status, 404) << method << " " << path << " → " << r.body;
    EXPECT_EQ(r.body.find("secret"), std::string::npos);
  }
  // Lists as bob are empty.
  EXPECT_EQ(s.ok("GET", "/v1/assistants", nullptr, "sk-bob")["data"].size(), 0u);
  EXPECT_EQ(s.ok("GET", "/v1/files", nullptr, "sk-bob")["data"].size(), 0u);
  // Alice's objects are untouched.
  EXPECT_EQ(s.ok("GET", "/v1/assistants/" + asst)["name"], nullptr);
  EXPECT_EQ(s.ok("GET", R)["status"], "requires_action");
  EXPECT_EQ(s.ok("GET", T + "/messages")["data"].size(), 1u);
  EXPECT_EQ(s.call("GET", "/v1/files/" + fid + "/content").body, "secret");
  EXPECT_EQ(s.ok("GET", T)["metadata"], json::object());
}

}  // namespace
}  // namespace agora::test
