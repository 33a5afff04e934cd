// Storage faults (RELIABILITY.md test 7): ENOSPC and EIO on database writes and fsyncs (a fault
// VFS under SQLite) and on file-byte writes and fsyncs (FaultyFileIo). The Store must report an
// error (unavailable), never success for a write that did not persist, keep working, and recover
// as soon as the fault clears, in the same process and after a reopen.
// ctest-labels: unit
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <set>

#include "platform/storage/file_io.h"
#include "platform/storage/sqlite/fault_vfs.h"
#include "storage_test_util.h"

namespace agora::storage {
namespace {

using test::make_owner;
using test::sample_assistant;
using test::sample_run;
using test::ScratchDir;
using test::text_message;

namespace fs = std::filesystem;

class StorageFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plan = sqlite::register_fault_vfs("agora-fault-test");
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    plan_ = *plan;
    reset_faults();
    open();
    owner_ = make_owner(*store_, "alice");
    thread_ = store_->create_thread(owner_, Thread{}, {})->id;
  }
  void TearDown() override { reset_faults(); }

  void open() {
    store_.reset();
    StoreOptions opts;
    opts.data_dir = tmp_.path();
    opts.sqlite_vfs = "agora-fault-test";
    opts.file_io = &io_;
    store_ = test::open_or_die(opts);
    ASSERT_TRUE(store_);
  }
  void reset_faults() {
    if (plan_) {
      plan_->write_errno = 0;
      plan_->sync_errno = 0;
    }
    io_.write_errno = 0;
    io_.fsync_errno = 0;
  }
  std::set<std::string> message_ids() {
    std::set<std::string> ids;
    auto p = store_->list_messages(owner_, thread_, {.limit = 100}, "");
    EXPECT_TRUE(p.ok()) << p.status().message();
    if (p.ok()) {
      for (const auto& m : p->items) ids.insert(m.id);
    }
    return ids;
  }
  int n_file_entries() {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp_.path() + "/files")) ++n;
    return n;
  }

  ScratchDir tmp_{"faults"};
  sqlite::FaultPlan* plan_ = nullptr;
  FaultyFileIo io_;
  std::unique_ptr<Store> store_;
  Owner owner_{""};
  std::string thread_;
};

// Database writes under each fault: every call fails as unavailable, nothing it tried is visible,
// and the same Store works again once the fault clears.
TEST_F(StorageFaults, DatabaseWriteAndSyncFaultsFailCleanlyAndHeal) {
  std::set<std::string> acknowledged;
  struct Case {
    const char* name;
    std::atomic<int> sqlite::FaultPlan::*knob;
    int err;
  };
  const Case cases[] = {
      {"write ENOSPC", &sqlite::FaultPlan::write_errno, ENOSPC},
      {"write EIO", &sqlite::FaultPlan::write_errno, EIO},
      {"fsync EIO", &sqlite::FaultPlan::sync_errno, EIO},
      {"fsync ENOSPC", &sqlite::FaultPlan::sync_errno, ENOSPC},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto ok = store_->create_message(owner_, text_message("before", thread_));
    ASSERT_TRUE(ok.ok()) << ok.status().message();
    acknowledged.insert(ok->id);

    const int faults_before = plan_->n_faults.load();
    (plan_->*c.knob) = c.err;
    for (int i = 0; i < 5; ++i) {
      auto m = store_->create_message(owner_, text_message("during", thread_));
      ASSERT_FALSE(m.ok()) << "a write reported success while the disk failed";
      EXPECT_EQ(m.code(), StoreErrc::unavailable) << m.status().message();
    }
    EXPECT_EQ(store_->create_assistant(owner_, sample_assistant()).code(), StoreErrc::unavailable);
    EXPECT_EQ(store_->create_thread(owner_, Thread{}, {text_message("x")}).code(), StoreErrc::unavailable);
    EXPECT_GT(plan_->n_faults.load(), faults_before);
    // Reads keep working while writes fail.
    auto visible = store_->list_messages(owner_, thread_, {.limit = 100}, "");
    ASSERT_TRUE(visible.ok()) << visible.status().message();
    (plan_->*c.knob) = 0;

    // Nothing from the failed calls is visible, in this process...
    EXPECT_EQ(message_ids(), acknowledged);
    // ...and the store heals.
    auto after = store_->create_message(owner_, text_message("after", thread_));
    ASSERT_TRUE(after.ok()) << after.status().message();
    acknowledged.insert(after->id);
    EXPECT_EQ(message_ids(), acknowledged);
    EXPECT_TRUE(store_->check_integrity().ok());
  }
  // After a reopen every acknowledged write is there and the database is sound.
  open();
  EXPECT_TRUE(store_->check_integrity().ok());
  const auto ids = message_ids();
  for (const auto& id : acknowledged) EXPECT_TRUE(ids.count(id)) << "lost acknowledged message " << id;
  // A write reported as failed may legitimately reappear (its WAL frames can be valid even though
  // their fsync failed); the reverse, a reported success that is missing, is the bug we exclude.
  std::printf("messages reported failed that reappeared after reopen: %zu\n", ids.size() - acknowledged.size());
  EXPECT_EQ(store_->list_assistants(owner_, {})->items.size(), 0u);
}

// Deferred writes (a run's progress) commit without a disk sync, and only inside their scope:
// with every fsync failing, a deferred write succeeds, the acknowledged write right after it (an
// autocommit statement and a transaction alike) still waits for the disk and so fails.
TEST_F(StorageFaults, DeferredDurabilityNeverLeaksIntoAcknowledgedWrites) {
  plan_->sync_errno = EIO;
  {
    DurabilityScope deferred(Durability::deferred);
    auto m = store_->create_message(owner_, text_message("progress", thread_));
    EXPECT_TRUE(m.ok()) << m.status().message();
    EXPECT_TRUE(store_->create_thread(owner_, Thread{}, {text_message("x")}).ok());
    {
      DurabilityScope acked(Durability::acknowledged);
      EXPECT_EQ(store_->create_message(owner_, text_message("acked", thread_)).code(), StoreErrc::unavailable);
    }
  }
  EXPECT_EQ(store_->create_message(owner_, text_message("acked", thread_)).code(), StoreErrc::unavailable);
  EXPECT_EQ(store_->create_thread(owner_, Thread{}, {text_message("y")}).code(), StoreErrc::unavailable);
  plan_->sync_errno = 0;
  // Once the disk works, the next acknowledged write makes the deferred ones durable with it.
  EXPECT_TRUE(store_->create_message(owner_, text_message("after", thread_)).ok());
  open();
  EXPECT_TRUE(store_->check_integrity().ok());
  EXPECT_GE(message_ids().size(), 2u);
}

TEST_F(StorageFaults, RunTransitionsUnderFaultsKeepTheirLastCommittedState) {
  auto asst = store_->create_assistant(owner_, sample_assistant());
  auto run = store_->create_run(owner_, sample_run(thread_, asst->id));
  ASSERT_TRUE(run.ok());
  storage::Run r = *run;
  r.status = RunStatus::in_progress;
  plan_->sync_errno = EIO;
  EXPECT_EQ(store_->update_run(owner_, r, RunStatus::queued).code(), StoreErrc::unavailable);
  plan_->sync_errno = 0;
  EXPECT_EQ(store_->get_run(owner_, thread_, run->id)->status, RunStatus::queued);
  // The compare-and-set still sees queued, so the retry succeeds.
  EXPECT_TRUE(store_->update_run(owner_, r, RunStatus::queued).ok());
}

TEST_F(StorageFaults, FileByteFaultsNeverCommitARow) {
  // ENOSPC while streaming the bytes.
  {
    auto up = store_->begin_file(owner_, "a.bin", "assistants");
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->write("first chunk").ok());
    io_.write_errno = ENOSPC;
    auto st = (*up)->write("second chunk");
    EXPECT_EQ(st.code(), StoreErrc::unavailable);
    EXPECT_NE(st.message().find("ENOSPC"), std::string::npos) << st.message();
    EXPECT_FALSE((*up)->commit().ok());
    io_.write_errno = 0;
  }
  // EIO on the fsync at commit.
  {
    auto up = store_->begin_file(owner_, "b.bin", "assistants");
    ASSERT_TRUE((*up)->write("bytes").ok());
    io_.fsync_errno = EIO;
    auto f = (*up)->commit();
    EXPECT_EQ(f.code(), StoreErrc::unavailable);
    io_.fsync_errno = 0;
  }
  // The bytes are durable but the row cannot commit (database disk full): the bytes go too.
  {
    auto up = store_->begin_file(owner_, "c.bin", "assistants");
    ASSERT_TRUE((*up)->write("bytes").ok());
    plan_->write_errno = ENOSPC;
    auto f = (*up)->commit();
    EXPECT_EQ(f.code(), StoreErrc::unavailable);
    plan_->write_errno = 0;
  }
  EXPECT_GT(io_.n_faults.load(), 0);
  EXPECT_TRUE(store_->list_files(owner_, "", {})->items.empty());
  EXPECT_EQ(n_file_entries(), 0) << "a failed upload left bytes behind";

  // Healed: uploads work again.
  auto up = store_->begin_file(owner_, "d.bin", "assistants");
  ASSERT_TRUE((*up)->write("good").ok());
  auto f = (*up)->commit();
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(*(*store_->open_file_content(owner_, f->id))->read_all(), "good");
  EXPECT_EQ(n_file_entries(), 1);
}

TEST_F(StorageFaults, OpeningDuringAFaultFailsAndLaterSucceeds) {
  store_.reset();
  ScratchDir fresh("faults-open");
  StoreOptions opts;
  opts.data_dir = fresh.path();
  opts.sqlite_vfs = "agora-fault-test";
  plan_->write_errno = ENOSPC;  // the first migration cannot be written
  auto s = open_store(opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StoreErrc::unavailable) << s.status().message();
  plan_->write_errno = 0;
  auto again = open_store(opts);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE((*again)->check_integrity().ok());
}

}  // namespace
}  // namespace agora::storage
