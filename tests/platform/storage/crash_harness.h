// The kill -9 crash-consistency harness (RELIABILITY.md test 6), shared by crash_test (50 cycles,
// default suite) and crash_slow_test (200 cycles, label slow).
//
// Each cycle forks a child that opens the store (running recovery, as a server start does) and
// writes threads, messages, file uploads and run lifecycles in a loop, reporting each write on a
// pipe only after the Store call returned ok. The parent SIGKILLs it at a random instant, then
// reopens the data directory and checks:
//   - PRAGMA integrity_check is ok;
//   - every acknowledged write is present (files byte-for-byte), every acknowledged delete absent;
//   - no half-written file is visible: every file row has exactly its bytes on disk;
//   - runs are never behind their acknowledged status, and after recover_after_crash none is left
//     queued / in_progress / cancelling, with no in-progress step or message and consistent
//     timestamps; no temp or orphan file bytes remain.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "platform/storage/store.h"
#include "storage_test_util.h"

namespace agora::storage::test {

// Deterministic file content for (seed, size).
inline std::string file_bytes(uint64_t seed, size_t size) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x & 0xFF);
  }
  return out;
}

struct CrashStats {
  int cycles = 0;
  int acked_writes = 0;      // acknowledged by children, all cycles
  int kills_mid_upload = 0;  // kills that left a temp upload behind
  int runs_failed_by_recovery = 0;
  double seconds = 0;
};

// --------------------------------------------------------------------------------------------
// The child: writes forever; every line on `ack_fd` is a write that has committed.
// --------------------------------------------------------------------------------------------
[[noreturn]] inline void crash_child(const std::string& dir, const Owner& owner, const std::string& assistant_id,
                                     int ack_fd, uint64_t seed) {
  auto ack = [&](const std::string& line) {
    const std::string l = line + "\n";
    if (::write(ack_fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) _exit(4);
  };
  StoreOptions opts;
  opts.data_dir = dir;
  auto opened = open_store(opts);
  if (!opened) _exit(3);
  Store& s = **opened;
  if (!s.recover_after_crash(RecoveryPolicy::fail)) _exit(3);
  std::mt19937_64 rng(seed);
  std::vector<std::string> threads, files;
  for (uint64_t i = 0;; ++i) {
    const int op = static_cast<int>(rng() % 12);
    if (op <= 2 || threads.empty()) {
      std::vector<Message> msgs;
      for (int k = static_cast<int>(rng() % 3); k > 0; --k) msgs.push_back(text_message("t" + std::to_string(i)));
      auto t = s.create_thread(owner, Thread{}, msgs);
      if (!t) _exit(5);
      threads.push_back(t->id);
      ack("T " + t->id);
    } else if (op <= 5) {
      const std::string& tid = threads[rng() % threads.size()];
      const std::string text = "m" + std::to_string(seed) + "x" + std::to_string(i);
      auto m = s.create_message(owner, text_message(text, tid));
      if (!m) _exit(5);
      ack("M " + tid + " " + m->id + " " + text);
    } else if (op <= 7) {
      const uint64_t fseed = rng();
      const size_t size = static_cast<size_t>(rng() % (256 * 1024));
      const std::string bytes = file_bytes(fseed, size);
      auto up = s.begin_file(owner, "f" + std::to_string(i) + ".bin", "assistants");
      if (!up) _exit(5);
      for (size_t off = 0; off < size; off += 16 * 1024) {
        if (!(*up)->write(std::string_view(bytes).substr(off, 16 * 1024)).ok()) _exit(5);
      }
      auto f = (*up)->commit();
      if (!f) _exit(5);
      files.push_back(f->id);
      ack("F " + f->id + " " + std::to_string(size) + " " + std::to_string(fseed));
    } else if (op == 8 && !files.empty()) {
      const std::string id = files[rng() % files.size()];
      ack("d " + id);  // intent: from here the file may be gone
      const auto st = s.delete_file(owner, id);
      if (!st.ok() && st.code() != StoreErrc::not_found) _exit(5);
      ack("D " + id);
      std::erase(files, id);
    } else {
      // A run's life: queued → in_progress (+ step, + partial message) → completed.
      auto run = s.create_thread_and_run(owner, Thread{}, {text_message("q")}, sample_run("", assistant_id));
      if (!run) _exit(5);
      const std::string ref = run->thread_id + " " + run->id;
      ack("R " + ref + " 0");
      Run r = *run;
      r.status = RunStatus::in_progress;
      r.started_at = r.created_at;
      if (!s.update_run(owner, r, RunStatus::queued)) _exit(5);
      ack("R " + ref + " 1");
      RunStep step;
      step.thread_id = r.thread_id;
      step.run_id = r.id;
      auto st = s.create_run_step(owner, step);
      if (!st) _exit(5);
      Message reply = text_message("answer", r.thread_id);
      reply.role = "assistant";
      reply.status = "in_progress";
      reply.run_id = r.id;
      reply.assistant_id = assistant_id;
      auto m = s.create_message(owner, reply);
      if (!m) _exit(5);
      Message done = *m;
      done.status = "completed";
      done.completed_at = done.created_at;
      if (!s.update_message(owner, done)) _exit(5);
      RunStep sd = *st;
      sd.status = RunStepStatus::completed;
      sd.completed_at = sd.created_at;
      if (!s.update_run_step(owner, sd)) _exit(5);
      r.status = RunStatus::completed;
      r.completed_at = r.created_at;
      r.usage = R"({"prompt_tokens":1,"completion_tokens":1,"total_tokens":2})";
      if (!s.update_run(owner, r, RunStatus::in_progress)) _exit(5);
      ack("R " + ref + " 2");
    }
  }
}

// --------------------------------------------------------------------------------------------
// The parent: what it has been told, and the checks.
// --------------------------------------------------------------------------------------------
struct Expected {
  std::set<std::string> threads;
  std::map<std::string, std::pair<std::string, std::string>> messages;  // id → (thread, text)
  struct File {
    int64_t size;
    uint64_t seed;
    bool verified = false;  // content compared once; later cycles compare sizes
  };
  std::map<std::string, File> files;
  std::map<std::string, File> maybe_deleted;  // delete begun, not acknowledged
  std::set<std::string> deleted;
  std::map<std::string, std::pair<std::string, int>> runs;  // id → (thread, 0 queued / 1 in_progress / 2 completed)
  int n_acks = 0;

  void apply(const std::string& line) {
    std::istringstream in(line);
    std::string kind, a, b, c;
    in >> kind >> a >> b >> c;
    ++n_acks;
    if (kind == "T") {
      threads.insert(a);
    } else if (kind == "M") {
      messages[b] = {a, c};
    } else if (kind == "F") {
      files[a] = File{std::stoll(b), std::stoull(c)};
    } else if (kind == "d") {
      --n_acks;  // an intent, not a write
      if (auto it = files.find(a); it != files.end()) {
        maybe_deleted[a] = it->second;
        files.erase(it);
      }
    } else if (kind == "D") {
      maybe_deleted.erase(a);
      files.erase(a);
      deleted.insert(a);
    } else if (kind == "R") {
      runs[b] = {a, std::stoi(c)};
    }
  }
};

inline int64_t sql_count(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    n = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  return n;
}

// Expected.runs rank of a run that recovery failed: it must stay failed.
inline constexpr int kSettledFailed = 3;

inline int run_rank(RunStatus s) {
  switch (s) {
    case RunStatus::queued: return 0;
    case RunStatus::in_progress: return 1;
    case RunStatus::completed: return 2;
    default: return -1;  // this workload never produces anything else before recovery
  }
}

// Checks the data directory after a kill; returns false (with gtest failures) when it is wrong.
inline void verify_after_kill(const std::string& dir, const Owner& owner, Expected& exp, CrashStats& stats,
                              int cycle) {
  SCOPED_TRACE("cycle " + std::to_string(cycle));
  namespace fs = std::filesystem;
  for (const auto& e : fs::directory_iterator(dir + "/files")) {
    if (e.path().filename().string().rfind(".tmp-", 0) == 0) {
      ++stats.kills_mid_upload;
      break;
    }
  }
  auto store = open_or_die(dir);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->check_integrity().ok()) << store->check_integrity().message();

  for (const auto& t : exp.threads) ASSERT_TRUE(store->get_thread(owner, t).ok()) << "lost thread " << t;
  for (const auto& [id, tm] : exp.messages) {
    auto m = store->get_message(owner, tm.first, id);
    ASSERT_TRUE(m.ok()) << "lost message " << id;
    ASSERT_NE(m->content.find(tm.second), std::string::npos) << id;
  }
  for (auto& [id, f] : exp.files) {
    auto row = store->get_file(owner, id);
    ASSERT_TRUE(row.ok()) << "lost file " << id;
    ASSERT_EQ(row->bytes, f.size) << id;
    if (!f.verified) {
      auto r = store->open_file_content(owner, id);
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_EQ(*(*r)->read_all(), file_bytes(f.seed, static_cast<size_t>(f.size))) << "corrupt file " << id;
      f.verified = true;
    }
  }
  for (const auto& id : exp.deleted) ASSERT_EQ(store->get_file(owner, id).code(), StoreErrc::not_found) << id;
  for (const auto& [id, tr] : exp.runs) {
    auto r = store->get_run(owner, tr.first, id);
    ASSERT_TRUE(r.ok()) << "lost run " << id;
    if (tr.second == kSettledFailed) {
      ASSERT_EQ(r->status, RunStatus::failed) << id;
    } else {
      ASSERT_GE(run_rank(r->status), tr.second) << "run " << id << " is " << to_string(r->status);
    }
  }
  // No half-written file is visible: each row's bytes are all on disk under its final name.
  PageRequest page{.limit = 100};
  for (;;) {
    auto p = store->list_files(owner, "", page);
    ASSERT_TRUE(p.ok());
    for (const auto& f : p->items) {
      std::error_code ec;
      ASSERT_EQ(static_cast<int64_t>(fs::file_size(dir + "/files/" + f.id, ec)), f.bytes) << f.id;
    }
    if (!p->has_more) break;
    page.after = p->last_id();
  }

  // What a server start does, then the run invariants.
  auto report = store->recover_after_crash(RecoveryPolicy::fail);
  ASSERT_TRUE(report.ok()) << report.status().message();
  stats.runs_failed_by_recovery += static_cast<int>(report->failed.size());
  for (auto& [id, tr] : exp.runs) {
    auto r = store->get_run(owner, tr.first, id);
    ASSERT_TRUE(r.ok());
    if (tr.second == 2) {
      ASSERT_EQ(r->status, RunStatus::completed) << id;
    }
    ASSERT_TRUE(r->status == RunStatus::completed || r->status == RunStatus::failed) << to_string(r->status);
    tr.second = r->status == RunStatus::completed ? 2 : kSettledFailed;  // final from now on
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/agora.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  EXPECT_EQ(sql_count(db, "SELECT count(*) FROM runs WHERE status IN ('queued','in_progress','cancelling')"), 0);
  EXPECT_EQ(sql_count(db, "SELECT count(*) FROM runs WHERE status = 'completed' AND completed_at IS NULL"), 0);
  EXPECT_EQ(sql_count(db, "SELECT count(*) FROM runs WHERE status = 'failed' AND (failed_at IS NULL OR "
                          "last_error_code IS NULL)"), 0);
  EXPECT_EQ(sql_count(db, "SELECT count(*) FROM run_steps WHERE status = 'in_progress'"), 0);
  EXPECT_EQ(sql_count(db, "SELECT count(*) FROM messages WHERE status = 'in_progress'"), 0);
  EXPECT_EQ(sql_count(db, "SELECT count(*) FROM run_steps s WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = s.run_id)"), 0);
  // Bytes on disk ⇔ rows.
  std::set<std::string> rows;
  {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT id FROM files", -1, &s, nullptr), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) rows.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  std::set<std::string> on_disk;
  for (const auto& e : fs::directory_iterator(dir + "/files")) on_disk.insert(e.path().filename().string());
  EXPECT_EQ(on_disk, rows) << "temp or orphan file bytes left after recovery";
  // An unacknowledged delete either happened or did not; from now on it must stay that way.
  for (const auto& [id, f] : exp.maybe_deleted) {
    if (rows.count(id)) {
      exp.files[id] = f;
    } else {
      exp.deleted.insert(id);
    }
  }
  exp.maybe_deleted.clear();
}

// Runs `n_cycles` fork/kill/verify cycles in a fresh directory.
inline CrashStats run_crash_cycles(int n_cycles, uint64_t seed) {
  CrashStats stats;
  ScratchDir tmp("crash");
  const std::string dir = tmp.path() + "/data";
  std::string owner_id, assistant_id;
  {
    auto store = open_or_die(dir);
    if (!store) return stats;
    owner_id = make_owner(*store, "crash").id;
    assistant_id = store->create_assistant(Owner(owner_id), sample_assistant())->id;
  }
  const Owner owner(owner_id);
  Expected exp;
  std::mt19937_64 rng(seed);
  const auto t0 = std::chrono::steady_clock::now();
  for (int cycle = 0; cycle < n_cycles; ++cycle) {
    int fds[2];
    if (::pipe(fds) != 0) {
      ADD_FAILURE() << "pipe failed";
      return stats;
    }
    const uint64_t child_seed = rng();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      crash_child(dir, owner, assistant_id, fds[1], child_seed);
    }
    ::close(fds[1]);
    // Kill at a random instant: mostly within the first 60 ms (often during open/recovery or
    // the first writes), one time in four up to 260 ms, deep in the write loop.
    const int delay_us = (rng() % 4 == 0) ? 60'000 + static_cast<int>(rng() % 200'000) : static_cast<int>(rng() % 60'000);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(delay_us);
    std::string buf;
    char chunk[4096];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
        const ssize_t n = ::read(fds[0], chunk, sizeof(chunk));
        if (n <= 0) break;  // the child died by itself
        buf.append(chunk, static_cast<size_t>(n));
      }
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    for (ssize_t n; (n = ::read(fds[0], chunk, sizeof(chunk))) > 0;) buf.append(chunk, static_cast<size_t>(n));
    ::close(fds[0]);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      ADD_FAILURE() << "cycle " << cycle << ": the child stopped by itself (exit " << WEXITSTATUS(status) << ")";
      return stats;
    }
    // Only whole lines are acknowledgements (a kill cannot split one: each is a single write).
    std::istringstream lines(buf);
    for (std::string line; std::getline(lines, line);) exp.apply(line);
    verify_after_kill(dir, owner, exp, stats, cycle);
    stats.cycles = cycle + 1;
    if (::testing::Test::HasFatalFailure()) break;
  }
  stats.acked_writes = exp.n_acks;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("crash cycles: %d, acknowledged writes: %d (threads %zu, messages %zu, files %zu, runs %zu), "
              "kills mid-upload: %d, runs failed by recovery: %d, %.1f s\n",
              stats.cycles, stats.acked_writes, exp.threads.size(), exp.messages.size(), exp.files.size(),
              exp.runs.size(), stats.kills_mid_upload, stats.runs_failed_by_recovery, stats.seconds);
  return stats;
}

}  // namespace agora::storage::test
