// Cross-tenant isolation in the storage layer (RELIABILITY.md test 18, storage half): a second
// owner walks every Store call with the first owner's ids and gets not_found every time; a
// randomized run of 1,000 such attempts changes nothing; and every SQL statement the store
// prepared on owned tables carries the owner predicate.
// ctest-labels: unit
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "platform/storage/sqlite/sqlite_store.h"
#include "storage_test_util.h"

namespace agora::storage {
namespace {

using test::sample_assistant;
using test::sample_run;
using test::ScratchDir;
using test::text_message;

// Everything tenant A owns.
struct World {
  FileObject file;
  Assistant assistant;
  Thread thread;
  Message message;
  Run run;
  RunStep step;
};

World populate(Store& s, const Owner& a) {
  World w;
  auto up = s.begin_file(a, "secret.txt", "assistants");
  EXPECT_TRUE((*up)->write("tenant A secret").ok());
  w.file = *(*up)->commit();
  w.assistant = *s.create_assistant(a, sample_assistant("a-private"));
  w.thread = *s.create_thread(a, Thread{}, {text_message("a-first")});
  w.message = *s.create_message(a, text_message("a-second", w.thread.id));
  w.run = *s.create_run(a, sample_run(w.thread.id, w.assistant.id));
  RunStep st;
  st.thread_id = w.thread.id;
  st.run_id = w.run.id;
  w.step = *s.create_run_step(a, st);
  return w;
}

// Each probe is one Store call made by B with A's ids; all must answer not_found.
using Probe = std::function<StoreErrc(Store&, const Owner& b, const World& w, const std::string& own_thread)>;

std::vector<std::pair<const char*, Probe>> probes() {
  std::vector<std::pair<const char*, Probe>> p;
  p.push_back({"get_file", [](Store& s, const Owner& b, const World& w, auto&) { return s.get_file(b, w.file.id).code(); }});
  p.push_back({"open_file_content",
               [](Store& s, const Owner& b, const World& w, auto&) { return s.open_file_content(b, w.file.id).code(); }});
  p.push_back({"delete_file", [](Store& s, const Owner& b, const World& w, auto&) { return s.delete_file(b, w.file.id).code(); }});
  p.push_back({"list_files(after A's id)", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.list_files(b, "", {.after = w.file.id}).code();
               }});
  p.push_back({"get_assistant",
               [](Store& s, const Owner& b, const World& w, auto&) { return s.get_assistant(b, w.assistant.id).code(); }});
  p.push_back({"update_assistant", [](Store& s, const Owner& b, const World& w, auto&) {
                 Assistant a = w.assistant;
                 a.name = "hijacked";
                 return s.update_assistant(b, a).code();
               }});
  p.push_back({"delete_assistant",
               [](Store& s, const Owner& b, const World& w, auto&) { return s.delete_assistant(b, w.assistant.id).code(); }});
  p.push_back({"list_assistants(before A's id)", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.list_assistants(b, {.before = w.assistant.id}).code();
               }});
  p.push_back({"get_thread", [](Store& s, const Owner& b, const World& w, auto&) { return s.get_thread(b, w.thread.id).code(); }});
  p.push_back({"update_thread", [](Store& s, const Owner& b, const World& w, auto&) {
                 Thread t = w.thread;
                 t.metadata = R"({"owned":"by b"})";
                 return s.update_thread(b, t).code();
               }});
  p.push_back({"delete_thread", [](Store& s, const Owner& b, const World& w, auto&) { return s.delete_thread(b, w.thread.id).code(); }});
  p.push_back({"create_message", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.create_message(b, text_message("injected", w.thread.id)).code();
               }});
  p.push_back({"get_message", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.get_message(b, w.thread.id, w.message.id).code();
               }});
  p.push_back({"get_message(own thread)", [](Store& s, const Owner& b, const World& w, const std::string& own) {
                 return s.get_message(b, own, w.message.id).code();
               }});
  p.push_back({"list_messages", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.list_messages(b, w.thread.id, {}, "").code();
               }});
  p.push_back({"list_messages(own thread, A's cursor)", [](Store& s, const Owner& b, const World& w, const std::string& own) {
                 return s.list_messages(b, own, {.after = w.message.id}, "").code();
               }});
  p.push_back({"update_message", [](Store& s, const Owner& b, const World& w, auto&) {
                 Message m = w.message;
                 m.metadata = R"({"x":"y"})";
                 return s.update_message(b, m).code();
               }});
  p.push_back({"delete_message", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.delete_message(b, w.thread.id, w.message.id).code();
               }});
  p.push_back({"create_run(A's thread)", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.create_run(b, sample_run(w.thread.id, w.assistant.id)).code();
               }});
  p.push_back({"create_run(own thread, A's assistant)", [](Store& s, const Owner& b, const World& w, const std::string& own) {
                 return s.create_run(b, sample_run(own, w.assistant.id)).code();
               }});
  p.push_back({"create_thread_and_run(A's assistant)", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.create_thread_and_run(b, Thread{}, {}, sample_run("", w.assistant.id)).code();
               }});
  p.push_back({"get_run", [](Store& s, const Owner& b, const World& w, auto&) { return s.get_run(b, w.thread.id, w.run.id).code(); }});
  p.push_back({"list_runs", [](Store& s, const Owner& b, const World& w, auto&) { return s.list_runs(b, w.thread.id, {}).code(); }});
  p.push_back({"update_run", [](Store& s, const Owner& b, const World& w, auto&) {
                 Run r = w.run;
                 r.status = RunStatus::cancelled;
                 return s.update_run(b, r, RunStatus::queued).code();
               }});
  p.push_back({"create_run_step", [](Store& s, const Owner& b, const World& w, auto&) {
                 RunStep st;
                 st.thread_id = w.thread.id;
                 st.run_id = w.run.id;
                 return s.create_run_step(b, st).code();
               }});
  p.push_back({"get_run_step", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.get_run_step(b, w.thread.id, w.run.id, w.step.id).code();
               }});
  p.push_back({"list_run_steps", [](Store& s, const Owner& b, const World& w, auto&) {
                 return s.list_run_steps(b, w.thread.id, w.run.id, {}).code();
               }});
  p.push_back({"update_run_step", [](Store& s, const Owner& b, const World& w, auto&) {
                 RunStep st = w.step;
                 st.status = RunStepStatus::failed;
                 return s.update_run_step(b, st).code();
               }});
  return p;
}

// A's world is exactly as created.
void expect_untouched(Store& s, const Owner& a, const World& w) {
  ASSERT_TRUE(s.get_file(a, w.file.id).ok());
  auto content = s.open_file_content(a, w.file.id);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*(*content)->read_all(), "tenant A secret");
  EXPECT_EQ(s.get_assistant(a, w.assistant.id)->name, "a-private");
  EXPECT_EQ(s.get_thread(a, w.thread.id)->metadata, "{}");
  auto msgs = s.list_messages(a, w.thread.id, {}, "");
  ASSERT_TRUE(msgs.ok());
  EXPECT_EQ(msgs->items.size(), 2u);
  EXPECT_EQ(s.get_message(a, w.thread.id, w.message.id)->metadata, "{}");
  EXPECT_EQ(s.get_run(a, w.thread.id, w.run.id)->status, RunStatus::queued);
  EXPECT_EQ(s.list_runs(a, w.thread.id, {})->items.size(), 1u);
  EXPECT_EQ(s.get_run_step(a, w.thread.id, w.run.id, w.step.id)->status, RunStepStatus::in_progress);
}

class Tenancy : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions opts;
    opts.data_dir = tmp_.path();
    auto s = sqlite::SqliteStore::open(opts);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    a_ = Owner(store_->create_user("tenant-a", std::nullopt, "")->id);
    b_ = Owner(store_->create_user("tenant-b", std::nullopt, "")->id);
    world_ = populate(*store_, a_);
    b_thread_ = store_->create_thread(b_, Thread{}, {text_message("b-own")})->id;
  }

  ScratchDir tmp_{"tenancy"};
  std::unique_ptr<sqlite::SqliteStore> store_;
  Owner a_{""}, b_{""};
  World world_;
  std::string b_thread_;
};

TEST_F(Tenancy, EveryCallWithAForeignIdIsNotFound) {
  for (const auto& [name, probe] : probes()) {
    EXPECT_EQ(probe(*store_, b_, world_, b_thread_), StoreErrc::not_found) << name;
  }
  expect_untouched(*store_, a_, world_);
  // And B's own lists show nothing of A's.
  EXPECT_TRUE(store_->list_files(b_, "", {})->items.empty());
  EXPECT_TRUE(store_->list_assistants(b_, {})->items.empty());
  EXPECT_EQ(store_->list_messages(b_, b_thread_, {}, "")->items.size(), 1u);
}

TEST_F(Tenancy, ThousandRandomizedAttemptsLeakNothing) {
  auto all = probes();
  std::mt19937 rng(18);
  int leaks = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto& [name, probe] = all[rng() % all.size()];
    const StoreErrc got = probe(*store_, b_, world_, b_thread_);
    if (got != StoreErrc::not_found) {
      ++leaks;
      ADD_FAILURE() << name << " answered " << to_string(got);
    }
    // B's own work keeps working in between.
    if (i % 50 == 0) ASSERT_TRUE(store_->create_message(b_, text_message("b", b_thread_)).ok());
  }
  EXPECT_EQ(leaks, 0);
  expect_untouched(*store_, a_, world_);
}

// The static half of test 18: every statement on an owned table that reads, changes or deletes
// rows filters by owner_id; inserts set owner_id. The only exceptions are the crash-recovery
// sweeps, which act for no tenant by design and are listed here by what they do.
TEST_F(Tenancy, EveryPreparedStatementOnOwnedTablesCarriesTheOwner) {
  for (const auto& [name, probe] : probes()) probe(*store_, b_, world_, b_thread_);
  expect_untouched(*store_, a_, world_);
  ASSERT_TRUE(store_->recover_after_crash(RecoveryPolicy::fail).ok());
  ASSERT_TRUE(store_->find_runs_by_status(RunStatus::queued, 10).ok());
  ASSERT_TRUE(store_->find_expired_runs(0, 10).ok());
  const std::regex owned(R"(\b(FROM|INTO|UPDATE)\s+(files|assistants|threads|messages|runs|run_steps)\b)");
  const std::vector<std::string> recovery_sweeps = {
      "SELECT id FROM files",
      "SELECT owner_id, thread_id, id, status FROM runs WHERE status IN",
      "UPDATE run_steps SET status = 'failed'",
      "UPDATE messages SET status = 'incomplete'",
      "UPDATE runs SET status = 'cancelled'",
      "UPDATE runs SET status = 'queued'",
      "UPDATE runs SET status = 'failed'",
      // The run loop's sweeps: references only; everything after goes through owner-scoped calls.
      "SELECT owner_id, thread_id, id FROM runs WHERE status",
  };
  int checked = 0;
  for (const std::string& sql : store_->prepared_sql()) {
    if (!std::regex_search(sql, owned)) continue;
    bool sweep = false;
    for (const auto& s : recovery_sweeps) sweep = sweep || sql.rfind(s, 0) == 0;
    if (sweep) continue;
    ++checked;
    if (sql.rfind("INSERT", 0) == 0) {
      EXPECT_NE(sql.find("owner_id"), std::string::npos) << sql;
    } else {
      EXPECT_NE(sql.find("owner_id = ?"), std::string::npos) << "no tenant predicate: " << sql;
    }
    // Sub-selects into owned tables are scoped too.
    for (size_t pos = sql.find("(SELECT"); pos != std::string::npos; pos = sql.find("(SELECT", pos + 1)) {
      const std::string sub = sql.substr(pos, sql.find(')', pos) - pos);
      EXPECT_NE(sub.find("owner_id = ?"), std::string::npos) << "unscoped sub-select: " << sql;
    }
  }
  EXPECT_GE(checked, 25);  // the walk above reached every kind of statement
}

}  // namespace
}  // namespace agora::storage
