// `agora admin`: create-user, create-key, list-users, revoke-key against a data directory, with
// and without another process (a "server") holding the same database open and writing.
// ctest-labels: unit
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "cli/cli_test_util.h"
#include "platform/accounts/accounts.h"
#include "platform/accounts/api_key.h"
#include "platform/storage/storage_test_util.h"

namespace agora::accounts {
namespace {

using agora::test::run_agora;
using agora::test::shell_quote;
using storage::test::ScratchDir;

std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  const size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

int line_count(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// `printf INPUT | agora ARGS...`, for --password-stdin.
agora::test::CliResult run_agora_with_stdin(const std::string& input, const std::vector<std::string>& args) {
  const std::string base = std::filesystem::temp_directory_path().string() + "/agora-admin-" + std::to_string(::getpid());
  std::string cmd = "printf %s " + shell_quote(input) + " | " + shell_quote(agora::test::agora_binary());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " >" + base + ".out 2>" + base + ".err";
  const int st = std::system(cmd.c_str());
  agora::test::CliResult r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = agora::test::slurp(base + ".out");
  r.err = agora::test::slurp(base + ".err");
  return r;
}

TEST(AdminCli, BootstrapUsersAndKeys) {
  ScratchDir tmp("admin");
  const std::string dir = tmp.path() + "/data";
  auto r = run_agora({"admin", "create-user", "--data-dir", dir, "alice", "--org", "acme"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("alice"), std::string::npos);
  r = run_agora_with_stdin("pa55word\n", {"admin", "create-user", "--data-dir", dir, "bob", "--password-stdin"});
  ASSERT_EQ(r.code, 0) << r.err;

  r = run_agora({"admin", "create-key", "--data-dir", dir, "--user", "alice"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string key = last_line(r.out);
  EXPECT_TRUE(is_api_key_shaped(key)) << r.out;
  r = run_agora({"admin", "create-key", "--data-dir", dir, "--user", "alice", "--expires-days", "30"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string expiring = last_line(r.out);
  EXPECT_TRUE(is_api_key_shaped(expiring));
  EXPECT_NE(r.out.find("expires 20"), std::string::npos) << r.out;

  r = run_agora({"admin", "list-users", "--data-dir", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(line_count(r.out), 3) << r.out;  // header + 2 users
  EXPECT_NE(r.out.find("acme"), std::string::npos);

  {
    auto store = storage::test::open_or_die(dir);
    Accounts acc(*store);
    auto who = acc.authenticate("Bearer " + key);
    ASSERT_TRUE(who.ok());
    EXPECT_EQ(who->user.name, "alice");
    EXPECT_TRUE(acc.verify_login("bob", "pa55word").ok());  // the newline was not part of it
    EXPECT_TRUE(acc.authenticate(expiring).ok());
  }

  r = run_agora({"admin", "revoke-key", "--data-dir", dir, display_prefix(key)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("revoked"), std::string::npos);
  {
    auto store = storage::test::open_or_die(dir);
    Accounts acc(*store);
    EXPECT_EQ(acc.authenticate(key).code(), storage::StoreErrc::not_found);
    EXPECT_TRUE(acc.authenticate(expiring).ok());
  }
}

TEST(AdminCli, BadUsageIsOneLineAndExitTwo) {
  ScratchDir tmp("admin-errors");
  const std::string dir = tmp.path() + "/data";
  ASSERT_EQ(run_agora({"admin", "create-user", "--data-dir", dir, "alice"}).code, 0);
  const std::vector<std::vector<std::string>> bad = {
      {"admin"},
      {"admin", "create-user", "--data-dir", dir},                           // no name
      {"admin", "create-user", "--data-dir", dir, "alice"},                  // duplicate
      {"admin", "create-user", "--data-dir", dir, "no spaces"},              // bad name
      {"admin", "create-key", "--data-dir", dir, "--user", "nobody"},        // unknown user
      {"admin", "create-key", "--data-dir", dir, "--user", "alice", "--expires-days", "0"},
      {"admin", "create-key", "--data-dir", dir},                            // no --user
      {"admin", "list-users", "--data-dir", tmp.path() + "/missing"},        // no data directory
      {"admin", "revoke-key", "--data-dir", dir, "key_nope"},
      {"admin", "frobnicate"},
  };
  for (const auto& args : bad) {
    auto r = run_agora(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, 2) << joined << "\n" << r.err;
    EXPECT_TRUE(r.out.empty() || args.size() <= 2) << joined << r.out;
    if (args.size() > 2) EXPECT_EQ(line_count(r.err), 1) << joined << "\n" << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/missing"));
  auto r = run_agora_with_stdin("", {"admin", "create-user", "--data-dir", dir, "carol", "--password-stdin"});
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST(AdminCli, WorksWhileAServerHoldsTheDatabase) {
  ScratchDir tmp("admin-live");
  const std::string dir = tmp.path() + "/data";
  auto server = storage::test::open_or_die(dir);
  const storage::Owner me = storage::test::make_owner(*server, "server-user");
  auto thread = server->create_thread(me, storage::Thread{}, {});
  std::atomic<bool> stop{false};
  std::atomic<int> server_writes{0}, server_failures{0};
  std::thread writer([&] {
    while (!stop) {
      if (server->create_message(me, storage::test::text_message("busy", thread->id)).ok()) {
        server_writes++;
      } else {
        server_failures++;
      }
    }
  });
  auto r1 = run_agora({"admin", "create-user", "--data-dir", dir, "alice"});
  auto r2 = run_agora({"admin", "create-key", "--data-dir", dir, "--user", "alice"});
  auto r3 = run_agora({"admin", "list-users", "--data-dir", dir});
  stop = true;
  writer.join();
  ASSERT_EQ(r1.code, 0) << r1.err;
  ASSERT_EQ(r2.code, 0) << r2.err;
  ASSERT_EQ(r3.code, 0) << r3.err;
  EXPECT_EQ(server_failures.load(), 0);
  EXPECT_GT(server_writes.load(), 0);
  // The server's connection sees the new key at once.
  Accounts acc(*server);
  EXPECT_TRUE(acc.authenticate(last_line(r2.out)).ok());
}

}  // namespace
}  // namespace agora::accounts
