// The Store contract on the SQLite backend: schema and migrations, accounts rows, every object
// kind's CRUD, cursor pagination, the run state machine, files on disk, and crash recovery.
// ctest-labels: unit
#include "platform/storage/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "platform/storage/data_dir_lock.h"
#include "platform/storage/ids.h"
#include "platform/storage/sqlite/migrations.h"
#include "storage_test_util.h"

namespace agora::storage {
namespace {

using test::make_owner;
using test::open_or_die;
using test::sample_assistant;
using test::sample_run;
using test::ScratchDir;
using test::text_message;

namespace fs = std::filesystem;

TEST(StoreOpen, CreatesTheDataDirectoryAndMigrates) {
  ScratchDir tmp("open");
  const std::string dir = tmp.path() + "/nested/data";
  auto store = open_or_die(dir);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->schema_version(), static_cast<int>(sqlite::migrations().size()));
  EXPECT_TRUE(fs::exists(dir + "/agora.db"));
  EXPECT_TRUE(fs::is_directory(dir + "/files"));
  EXPECT_TRUE(store->check_integrity().ok());
  store.reset();
  auto again = open_or_die(dir);  // migrations are idempotent
  ASSERT_TRUE(again);
  EXPECT_EQ(again->schema_version(), static_cast<int>(sqlite::migrations().size()));
}

TEST(StoreOpen, MissingDirectoryWithoutCreateIsNotFound) {
  ScratchDir tmp("missing");
  StoreOptions opts;
  opts.data_dir = tmp.path() + "/nope";
  opts.create_if_missing = false;
  auto s = open_store(opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StoreErrc::not_found);
  EXPECT_FALSE(fs::exists(opts.data_dir));
}

TEST(StoreOpen, RefusesANewerSchema) {
  ScratchDir tmp("newer");
  { ASSERT_TRUE(open_or_die(tmp.path())); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((tmp.path() + "/agora.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  StoreOptions opts;
  opts.data_dir = tmp.path();
  auto s = open_store(opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StoreErrc::internal);
  EXPECT_NE(s.status().message().find("newer agora"), std::string::npos) << s.status().message();
}

TEST(StoreOpen, UsesWalFullSyncAndForeignKeys) {
  ScratchDir tmp("pragmas");
  { ASSERT_TRUE(open_or_die(tmp.path())); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((tmp.path() + "/agora.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST(DataDirLockTest, OneServerPerDirectory) {
  ScratchDir tmp("lock");
  auto first = DataDirLock::acquire(tmp.path());
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = DataDirLock::acquire(tmp.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), StoreErrc::conflict);
  first->reset();  // released on destruction
  EXPECT_TRUE(DataDirLock::acquire(tmp.path()).ok());
}

TEST(Ids, HaveOpenAIShapes) {
  EXPECT_TRUE(is_well_formed_id(new_id(kAssistantIdPrefix), "asst_"));
  EXPECT_TRUE(is_well_formed_id(new_id(kFileIdPrefix), "file-"));
  EXPECT_FALSE(is_well_formed_id("asst_short", "asst_"));
  EXPECT_FALSE(is_well_formed_id("thread_" + std::string(24, '!'), "thread_"));
  EXPECT_NE(new_id(kRunIdPrefix), new_id(kRunIdPrefix));
}

TEST(Accounts, UsersOrganizationsAndKeys) {
  ScratchDir tmp("accounts");
  auto store = open_or_die(tmp.path());
  auto org = store->create_organization("acme");
  ASSERT_TRUE(org.ok());
  EXPECT_EQ(store->create_organization("acme").code(), StoreErrc::conflict);
  auto alice = store->create_user("alice", org->id, "");
  ASSERT_TRUE(alice.ok()) << alice.status().message();
  EXPECT_EQ(store->create_user("alice", std::nullopt, "").code(), StoreErrc::conflict);
  EXPECT_EQ(store->create_user("bob", std::string("org_nope"), "").code(), StoreErrc::not_found);
  EXPECT_EQ(store->create_user("", std::nullopt, "").code(), StoreErrc::invalid_argument);
  auto bob = store->create_user("bob", std::nullopt, "");
  ASSERT_TRUE(bob.ok());
  auto users = store->list_users();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[0].org_id, org->id);
  EXPECT_EQ(*store->count_users(), 2);
  EXPECT_EQ(store->find_user("bob")->id, bob->id);
  EXPECT_EQ(store->get_user(alice->id)->name, "alice");
  EXPECT_EQ(store->find_user("carol").code(), StoreErrc::not_found);

  ApiKey draft;
  draft.user_id = alice->id;
  draft.prefix = "sk-agora-abc123";
  draft.key_hash = std::string(64, 'a');
  auto key = store->create_api_key(draft);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_TRUE(is_well_formed_id(key->id, kApiKeyIdPrefix));
  EXPECT_EQ(store->find_api_key_by_hash(std::string(64, 'a'))->id, key->id);
  EXPECT_EQ(store->find_api_key_by_hash(std::string(64, 'b')).code(), StoreErrc::not_found);
  EXPECT_EQ(store->create_api_key(draft).code(), StoreErrc::conflict);  // same hash
  draft.user_id = "user_nope";
  draft.key_hash = std::string(64, 'c');
  EXPECT_EQ(store->create_api_key(draft).code(), StoreErrc::not_found);
  EXPECT_EQ(store->find_api_keys("sk-agora-abc")->size(), 1u);
  EXPECT_EQ(store->find_api_keys(key->id)->size(), 1u);
  EXPECT_EQ(store->find_api_keys("sk-agora-%")->size(), 0u);  // no LIKE wildcards
  auto revoked = store->revoke_api_key(key->id);
  ASSERT_TRUE(revoked.ok());
  ASSERT_TRUE(revoked->revoked_at.has_value());
  auto again = store->revoke_api_key(key->id);
  EXPECT_EQ(again->revoked_at, revoked->revoked_at);  // idempotent
  EXPECT_EQ(store->revoke_api_key("key_nope").code(), StoreErrc::not_found);
}

TEST(Assistants, CrudAndJsonColumns) {
  ScratchDir tmp("assistants");
  auto store = open_or_die(tmp.path());
  const Owner me = make_owner(*store, "alice");
  auto a = store->create_assistant(me, sample_assistant());
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(is_well_formed_id(a->id, "asst_"));
  EXPECT_EQ(a->owner_id, me.id);
  EXPECT_GT(a->created_at, 0);
  auto got = store->get_assistant(me, a->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "helper");
  EXPECT_EQ(got->tools, sample_assistant().tools);
  EXPECT_EQ(got->temperature, 0.5);
  EXPECT_FALSE(got->top_p.has_value());
  EXPECT_FALSE(got->description.has_value());

  Assistant changed = *got;
  changed.name.reset();
  changed.metadata = R"({"k":"w"})";
  changed.top_p = 0.9;
  auto updated = store->update_assistant(me, changed);
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->name.has_value());
  EXPECT_EQ(updated->metadata, R"({"k":"w"})");
  EXPECT_EQ(updated->created_at, a->created_at);

  Assistant bad = sample_assistant();
  bad.metadata = "{not json";
  EXPECT_EQ(store->create_assistant(me, bad).code(), StoreErrc::invalid_argument);
  bad = sample_assistant();
  bad.model.clear();
  EXPECT_EQ(store->create_assistant(me, bad).code(), StoreErrc::invalid_argument);

  EXPECT_TRUE(store->delete_assistant(me, a->id).ok());
  EXPECT_EQ(store->get_assistant(me, a->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store->delete_assistant(me, a->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store->update_assistant(me, changed).code(), StoreErrc::not_found);
}

TEST(Pagination, LimitOrderAfterBefore) {
  ScratchDir tmp("pages");
  auto store = open_or_die(tmp.path());
  const Owner me = make_owner(*store, "alice");
  std::vector<std::string> ids;  // creation order
  for (int i = 0; i < 7; ++i) ids.push_back(store->create_assistant(me, sample_assistant("a" + std::to_string(i)))->id);

  auto names = [](const Page<Assistant>& p) {
    std::vector<std::string> out;
    for (const auto& a : p.items) out.push_back(a.id);
    return out;
  };
  // Default: newest first, 20.
  auto all = store->list_assistants(me, {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(names(*all), (std::vector<std::string>{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}));
  EXPECT_FALSE(all->has_more);

  // Walk descending by `after`.
  auto p1 = store->list_assistants(me, {.limit = 3});
  EXPECT_EQ(names(*p1), (std::vector<std::string>{ids[6], ids[5], ids[4]}));
  EXPECT_TRUE(p1->has_more);
  auto p2 = store->list_assistants(me, {.limit = 3, .after = p1->last_id()});
  EXPECT_EQ(names(*p2), (std::vector<std::string>{ids[3], ids[2], ids[1]}));
  EXPECT_TRUE(p2->has_more);
  auto p3 = store->list_assistants(me, {.limit = 3, .after = p2->last_id()});
  EXPECT_EQ(names(*p3), (std::vector<std::string>{ids[0]}));
  EXPECT_FALSE(p3->has_more);
  // And back by `before`: the items just before the cursor, in list order.
  auto back = store->list_assistants(me, {.limit = 2, .before = p3->first_id()});
  EXPECT_EQ(names(*back), (std::vector<std::string>{ids[2], ids[1]}));
  EXPECT_TRUE(back->has_more);

  // Ascending.
  auto asc = store->list_assistants(me, {.limit = 4, .order = SortOrder::asc});
  EXPECT_EQ(names(*asc), (std::vector<std::string>{ids[0], ids[1], ids[2], ids[3]}));
  auto asc2 = store->list_assistants(me, {.limit = 4, .order = SortOrder::asc, .after = ids[3]});
  EXPECT_EQ(names(*asc2), (std::vector<std::string>{ids[4], ids[5], ids[6]}));
  EXPECT_FALSE(asc2->has_more);
  // Both cursors: a window.
  auto window = store->list_assistants(me, {.limit = 10, .order = SortOrder::asc, .after = ids[1], .before = ids[5]});
  EXPECT_EQ(names(*window), (std::vector<std::string>{ids[2], ids[3], ids[4]}));

  // Limits and unknown cursors.
  EXPECT_EQ(store->list_assistants(me, {.limit = 0}).code(), StoreErrc::invalid_argument);
  EXPECT_EQ(store->list_assistants(me, {.limit = 101}).code(), StoreErrc::invalid_argument);
  EXPECT_TRUE(store->list_assistants(me, {.limit = 100}).ok());
  EXPECT_EQ(store->list_assistants(me, {.after = "asst_nope"}).code(), StoreErrc::not_found);
  EXPECT_EQ(store->list_assistants(me, {.before = "asst_nope"}).code(), StoreErrc::not_found);
}

TEST(Threads, MessagesAndCascade) {
  ScratchDir tmp("threads");
  auto store = open_or_die(tmp.path());
  const Owner me = make_owner(*store, "alice");
  auto asst = store->create_assistant(me, sample_assistant());
  Thread draft;
  draft.metadata = R"({"topic":"x"})";
  auto t = store->create_thread(me, draft, {text_message("hello"), text_message("world")});
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(is_well_formed_id(t->id, "thread_"));
  auto msgs = store->list_messages(me, t->id, {.order = SortOrder::asc}, "");
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->items.size(), 2u);
  EXPECT_NE(msgs->items[0].content.find("hello"), std::string::npos);
  EXPECT_EQ(msgs->items[0].thread_id, t->id);
  EXPECT_TRUE(is_well_formed_id(msgs->items[0].id, "msg_"));

  // A message with a bad role or into a missing thread.
  Message bad = text_message("x", t->id);
  bad.role = "system";
  EXPECT_EQ(store->create_message(me, bad).code(), StoreErrc::invalid_argument);
  EXPECT_EQ(store->create_message(me, text_message("x", "thread_nope")).code(), StoreErrc::not_found);
  // A failing message rolls back the whole thread creation.
  Message bad_json = text_message("x");
  bad_json.content = "[";
  EXPECT_FALSE(store->create_thread(me, Thread{}, {text_message("ok"), bad_json}).ok());

  auto m = store->create_message(me, text_message("third", t->id));
  ASSERT_TRUE(m.ok());
  Message edit = *m;
  edit.metadata = R"({"edited":"yes"})";
  edit.status = "incomplete";
  edit.incomplete_at = 5;
  edit.incomplete_details = R"({"reason":"max_tokens"})";
  auto edited = store->update_message(me, edit);
  ASSERT_TRUE(edited.ok()) << edited.status().message();
  EXPECT_EQ(edited->metadata, R"({"edited":"yes"})");
  EXPECT_EQ(edited->incomplete_details, R"({"reason":"max_tokens"})");
  EXPECT_TRUE(store->delete_message(me, t->id, m->id).ok());
  EXPECT_EQ(store->get_message(me, t->id, m->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store->list_messages(me, "thread_nope", {}, "").code(), StoreErrc::not_found);

  Thread tu = *t;
  tu.metadata = R"({"topic":"y"})";
  EXPECT_EQ(store->update_thread(me, tu)->metadata, R"({"topic":"y"})");

  // Delete cascades to messages, runs and steps.
  auto run = store->create_run(me, sample_run(t->id, asst->id));
  ASSERT_TRUE(run.ok());
  RunStep step;
  step.thread_id = t->id;
  step.run_id = run->id;
  ASSERT_TRUE(store->create_run_step(me, step).ok());
  EXPECT_TRUE(store->delete_thread(me, t->id).ok());
  EXPECT_EQ(store->get_thread(me, t->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store->get_message(me, t->id, msgs->items[0].id).code(), StoreErrc::not_found);
  EXPECT_EQ(store->get_run(me, t->id, run->id).code(), StoreErrc::not_found);
  EXPECT_TRUE(store->check_integrity().ok());
}

TEST(Runs, StateMachineAndOneActiveRunPerThread) {
  ScratchDir tmp("runs");
  auto store = open_or_die(tmp.path());
  const Owner me = make_owner(*store, "alice");
  auto asst = store->create_assistant(me, sample_assistant());
  auto t = store->create_thread(me, Thread{}, {text_message("hi")});
  auto run = store->create_run(me, sample_run(t->id, asst->id));
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, RunStatus::queued);
  EXPECT_TRUE(is_well_formed_id(run->id, "run_"));
  // A second active run on the same thread is refused.
  EXPECT_EQ(store->create_run(me, sample_run(t->id, asst->id)).code(), StoreErrc::conflict);
  EXPECT_EQ(store->create_run(me, sample_run(t->id, "asst_nope")).code(), StoreErrc::not_found);

  storage::Run r = *run;
  r.status = RunStatus::in_progress;
  r.started_at = 10;
  auto started = store->update_run(me, r, RunStatus::queued);
  ASSERT_TRUE(started.ok()) << started.status().message();
  EXPECT_EQ(started->started_at, 10);
  // Compare-and-set: a stale expected status is a conflict.
  EXPECT_EQ(store->update_run(me, r, RunStatus::queued).code(), StoreErrc::conflict);
  // Illegal transitions are refused before touching the database.
  storage::Run back = r;
  back.status = RunStatus::requires_action;
  back.required_action = R"({"type":"submit_tool_outputs","submit_tool_outputs":{"tool_calls":[]}})";
  ASSERT_TRUE(store->update_run(me, back, RunStatus::in_progress).ok());
  storage::Run wrong = back;
  wrong.status = RunStatus::incomplete;
  EXPECT_EQ(store->update_run(me, wrong, RunStatus::requires_action).code(), StoreErrc::conflict);

  RunStep step;
  step.thread_id = t->id;
  step.run_id = run->id;
  step.type = "tool_calls";
  step.step_details = R"({"type":"tool_calls","tool_calls":[]})";
  auto s = store->create_run_step(me, step);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->assistant_id, asst->id);  // taken from the run
  EXPECT_TRUE(is_well_formed_id(s->id, "step_"));
  RunStep done = *s;
  done.status = RunStepStatus::completed;
  done.completed_at = 12;
  EXPECT_EQ(store->update_run_step(me, done)->status, RunStepStatus::completed);
  auto steps = store->list_run_steps(me, t->id, run->id, {});
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(steps->items.size(), 1u);
  step.type = "thinking";
  EXPECT_EQ(store->create_run_step(me, step).code(), StoreErrc::invalid_argument);

  storage::Run fin = back;
  fin.status = RunStatus::in_progress;
  fin.required_action.reset();
  ASSERT_TRUE(store->update_run(me, fin, RunStatus::requires_action).ok());
  fin.status = RunStatus::completed;
  fin.completed_at = 20;
  fin.usage = R"({"prompt_tokens":1,"completion_tokens":2,"total_tokens":3})";
  auto completed = store->update_run(me, fin, RunStatus::in_progress);
  ASSERT_TRUE(completed.ok());
  EXPECT_EQ(completed->usage, fin.usage);
  // Terminal is final.
  storage::Run again = fin;
  again.status = RunStatus::in_progress;
  EXPECT_EQ(store->update_run(me, again, RunStatus::completed).code(), StoreErrc::conflict);
  // The thread is free for the next run.
  auto next = store->create_run(me, sample_run(t->id, asst->id));
  ASSERT_TRUE(next.ok());
  auto runs = store->list_runs(me, t->id, {});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->items.size(), 2u);
  EXPECT_EQ(runs->items[0].id, next->id);  // newest first

  auto tr = store->create_thread_and_run(me, Thread{}, {text_message("q")}, sample_run("", asst->id));
  ASSERT_TRUE(tr.ok()) << tr.status().message();
  EXPECT_EQ(store->list_messages(me, tr->thread_id, {}, "")->items.size(), 1u);
  // create_thread_and_run with a bad assistant leaves no thread behind.
  EXPECT_EQ(store->create_thread_and_run(me, Thread{}, {}, sample_run("", "asst_nope")).code(), StoreErrc::not_found);
}

TEST(RunStatusTable, Transitions) {
  EXPECT_TRUE(can_transition(RunStatus::queued, RunStatus::in_progress));
  EXPECT_TRUE(can_transition(RunStatus::in_progress, RunStatus::requires_action));
  EXPECT_TRUE(can_transition(RunStatus::requires_action, RunStatus::in_progress));
  EXPECT_TRUE(can_transition(RunStatus::in_progress, RunStatus::queued));  // recovery re-queue
  EXPECT_TRUE(can_transition(RunStatus::cancelling, RunStatus::cancelled));
  EXPECT_FALSE(can_transition(RunStatus::queued, RunStatus::completed));
  EXPECT_FALSE(can_transition(RunStatus::requires_action, RunStatus::completed));
  for (RunStatus t : {RunStatus::cancelled, RunStatus::failed, RunStatus::completed, RunStatus::incomplete,
                      RunStatus::expired}) {
    EXPECT_TRUE(is_terminal(t));
    EXPECT_FALSE(can_transition(t, RunStatus::in_progress));
    EXPECT_FALSE(can_transition(t, t));
    EXPECT_EQ(parse_run_status(to_string(t)), t);
  }
  EXPECT_FALSE(parse_run_status("running").has_value());
}

// Puts one run in each interesting state and returns their ids by state name.
struct RecoveryFixture {
  std::map<std::string, Run> runs;
  std::string in_progress_step, waiting_step, in_progress_message;
};

RecoveryFixture make_interrupted_runs(Store& store, const Owner& me) {
  RecoveryFixture f;
  auto asst = store.create_assistant(me, sample_assistant());
  auto fresh = [&](RunStatus target) {
    auto t = store.create_thread(me, Thread{}, {text_message("q")});
    storage::Run r = *store.create_run(me, sample_run(t->id, asst->id));
    if (target == RunStatus::queued) return r;
    r.status = RunStatus::in_progress;
    r = *store.update_run(me, r, RunStatus::queued);
    if (target == RunStatus::in_progress) return r;
    const RunStatus from = r.status;
    r.status = target;
    if (target == RunStatus::requires_action) r.required_action = "{}";
    r = *store.update_run(me, r, from);
    return r;
  };
  f.runs["queued"] = fresh(RunStatus::queued);
  f.runs["in_progress"] = fresh(RunStatus::in_progress);
  f.runs["requires_action"] = fresh(RunStatus::requires_action);
  f.runs["cancelling"] = fresh(RunStatus::cancelling);
  f.runs["completed"] = fresh(RunStatus::completed);
  const storage::Run& ip = f.runs["in_progress"];
  RunStep step;
  step.thread_id = ip.thread_id;
  step.run_id = ip.id;
  f.in_progress_step = store.create_run_step(me, step)->id;
  Message partial = text_message("partial", ip.thread_id);
  partial.role = "assistant";
  partial.status = "in_progress";
  partial.run_id = ip.id;
  f.in_progress_message = store.create_message(me, partial)->id;
  const storage::Run& wa = f.runs["requires_action"];
  step.thread_id = wa.thread_id;
  step.run_id = wa.id;
  step.type = "tool_calls";
  f.waiting_step = store.create_run_step(me, step)->id;
  return f;
}

TEST(Recovery, FailsInterruptedRunsAndKeepsWaitingOnes) {
  ScratchDir tmp("recover-fail");
  auto store = open_or_die(tmp.path());
  const Owner me = make_owner(*store, "alice");
  RecoveryFixture f = make_interrupted_runs(*store, me);
  auto report = store->recover_after_crash(RecoveryPolicy::fail);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->failed.size(), 2u);
  EXPECT_EQ(report->cancelled.size(), 1u);
  EXPECT_EQ(report->requeued.size(), 0u);
  EXPECT_EQ(report->steps_failed, 1);
  EXPECT_EQ(report->messages_incomplete, 1);
  auto get = [&](const std::string& k) { return *store->get_run(me, f.runs[k].thread_id, f.runs[k].id); };
  for (const char* k : {"queued", "in_progress"}) {
    const storage::Run r = get(k);
    EXPECT_EQ(r.status, RunStatus::failed) << k;
    ASSERT_TRUE(r.last_error.has_value()) << k;
    EXPECT_EQ(r.last_error->code, "server_error");
    EXPECT_TRUE(r.failed_at.has_value());
  }
  EXPECT_EQ(get("requires_action").status, RunStatus::requires_action);
  EXPECT_EQ(get("cancelling").status, RunStatus::cancelled);
  EXPECT_EQ(get("completed").status, RunStatus::completed);
  const storage::Run& ip = f.runs["in_progress"];
  EXPECT_EQ(store->get_run_step(me, ip.thread_id, ip.id, f.in_progress_step)->status, RunStepStatus::failed);
  const storage::Run& wa = f.runs["requires_action"];
  EXPECT_EQ(store->get_run_step(me, wa.thread_id, wa.id, f.waiting_step)->status, RunStepStatus::in_progress);
  EXPECT_EQ(store->get_message(me, ip.thread_id, f.in_progress_message)->status, "incomplete");
  // Idempotent.
  auto second = store->recover_after_crash(RecoveryPolicy::fail);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->failed.empty());
  // The failed runs freed their threads.
  EXPECT_TRUE(store->create_run(me, sample_run(ip.thread_id, ip.assistant_id)).ok());
}

TEST(Recovery, RequeuesInterruptedRuns) {
  ScratchDir tmp("recover-requeue");
  auto store = open_or_die(tmp.path());
  const Owner me = make_owner(*store, "alice");
  RecoveryFixture f = make_interrupted_runs(*store, me);
  auto report = store->recover_after_crash(RecoveryPolicy::requeue);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->requeued.size(), 2u);
  EXPECT_TRUE(report->failed.empty());
  const storage::Run& ip = f.runs["in_progress"];
  EXPECT_EQ(store->get_run(me, ip.thread_id, ip.id)->status, RunStatus::queued);
  EXPECT_EQ(store->get_run_step(me, ip.thread_id, ip.id, f.in_progress_step)->status, RunStepStatus::failed);
}

std::string read_all(Store& store, const Owner& me, const std::string& id) {
  auto r = store.open_file_content(me, id);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return "";
  auto bytes = (*r)->read_all();
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : "";
}

int count_entries(const std::string& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(Files, StreamCommitReadListDelete) {
  ScratchDir tmp("files");
  auto store = open_or_die(tmp.path());
  const Owner me = make_owner(*store, "alice");
  auto up = store->begin_file(me, "notes.txt", "assistants");
  ASSERT_TRUE(up.ok());
  std::string expect;
  for (int i = 0; i < 100; ++i) {
    const std::string chunk(1000 + i, static_cast<char>('a' + i % 26));
    ASSERT_TRUE((*up)->write(chunk).ok());
    expect += chunk;
  }
  // Nothing is visible before commit.
  EXPECT_TRUE(store->list_files(me, "", {})->items.empty());
  auto f = (*up)->commit();
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(is_well_formed_id(f->id, "file-"));
  EXPECT_EQ(f->bytes, static_cast<int64_t>(expect.size()));
  EXPECT_EQ(read_all(*store, me, f->id), expect);
  EXPECT_EQ(count_entries(tmp.path() + "/files"), 1);  // no temp file left

  auto empty = store->begin_file(me, "empty.bin", "batch");
  auto ef = (*empty)->commit();
  ASSERT_TRUE(ef.ok());
  EXPECT_EQ(ef->bytes, 0);
  EXPECT_EQ(store->list_files(me, "", {})->items.size(), 2u);
  EXPECT_EQ(store->list_files(me, "batch", {})->items.size(), 1u);
  EXPECT_EQ(store->list_files(me, "fine-tune", {})->items.size(), 0u);

  EXPECT_TRUE(store->delete_file(me, f->id).ok());
  EXPECT_EQ(store->get_file(me, f->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store->open_file_content(me, f->id).code(), StoreErrc::not_found);
  EXPECT_FALSE(fs::exists(tmp.path() + "/files/" + f->id));
  EXPECT_EQ(store->delete_file(me, f->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store->begin_file(me, "", "assistants").code(), StoreErrc::invalid_argument);
}

TEST(Files, SizeLimitAndAbandonedUploadsLeaveNothing) {
  ScratchDir tmp("files-limit");
  StoreOptions opts;
  opts.data_dir = tmp.path();
  opts.max_file_bytes = 1000;
  auto store = open_or_die(opts);
  const Owner me = make_owner(*store, "alice");
  {
    auto up = store->begin_file(me, "big.bin", "assistants");
    ASSERT_TRUE((*up)->write(std::string(600, 'x')).ok());
    auto st = (*up)->write(std::string(401, 'x'));
    EXPECT_EQ(st.code(), StoreErrc::too_large);
    EXPECT_EQ((*up)->commit().code(), StoreErrc::invalid_argument);  // dead after the error
  }
  {
    auto up = store->begin_file(me, "exact.bin", "assistants");
    ASSERT_TRUE((*up)->write(std::string(1000, 'x')).ok());  // exactly the limit is fine
    EXPECT_TRUE((*up)->commit().ok());
  }
  {
    auto up = store->begin_file(me, "abandoned.bin", "assistants");
    ASSERT_TRUE((*up)->write("half").ok());
  }  // destroyed without commit
  EXPECT_EQ(store->list_files(me, "", {})->items.size(), 1u);
  EXPECT_EQ(count_entries(tmp.path() + "/files"), 1);
}

TEST(Files, RecoveryRemovesTempAndOrphanBytes) {
  ScratchDir tmp("files-orphans");
  auto store = open_or_die(tmp.path());
  const Owner me = make_owner(*store, "alice");
  auto up = store->begin_file(me, "keep.txt", "assistants");
  ASSERT_TRUE((*up)->write("keep").ok());
  auto kept = (*up)->commit();
  ASSERT_TRUE(kept.ok());
  // What a crash leaves: a temp file mid-upload, and bytes renamed into place whose row never
  // committed.
  std::ofstream(tmp.path() + "/files/.tmp-file-XXXXXXXXXXXXXXXXXXXXXXXX-abcdefgh") << "half";
  std::ofstream(tmp.path() + "/files/file-ORPHANORPHANORPHANORPHAN") << "orphan";
  auto report = store->recover_after_crash(RecoveryPolicy::fail);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->temp_files_removed, 1);
  EXPECT_EQ(report->orphan_files_removed, 1);
  EXPECT_EQ(count_entries(tmp.path() + "/files"), 1);
  EXPECT_EQ(read_all(*store, me, kept->id), "keep");
}

TEST(Concurrency, TwoStoresOnOneDirectoryAndManyThreads) {
  // A server and `agora admin` share a data directory: two connections writing at once must
  // both succeed (WAL + busy timeout + BEGIN IMMEDIATE), from several threads each.
  ScratchDir tmp("concurrent");
  auto a = open_or_die(tmp.path());
  auto b = open_or_die(tmp.path());
  const Owner me = make_owner(*a, "alice");
  auto t = a->create_thread(me, Thread{}, {});
  constexpr int kThreads = 4, kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kThreads; ++w) {
    Store* s = (w % 2 == 0) ? a.get() : b.get();
    workers.emplace_back([&, s, w] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!s->create_message(me, text_message("w" + std::to_string(w), t->id)).ok()) failures++;
        if (w == 1 && i % 10 == 0 && !s->create_user("u" + std::to_string(i), std::nullopt, "").ok()) failures++;
      }
    });
  }
  for (auto& th : workers) th.join();
  EXPECT_EQ(failures.load(), 0);
  int n = 0;
  PageRequest page{.limit = 100};
  for (;;) {
    auto p = b->list_messages(me, t->id, page, "");
    ASSERT_TRUE(p.ok());
    n += static_cast<int>(p->items.size());
    if (!p->has_more) break;
    page.after = p->last_id();
  }
  EXPECT_EQ(n, kThreads * kPerThread);
}

}  // namespace
}  // namespace agora::storage
