// `agora admin`: bootstrap and manage accounts on a data directory, whether or not a server is
// running on it (SQLite WAL + busy timeout let both share the database).
//
//   agora admin create-user --data-dir DIR NAME [--org ORG] [--password-stdin]
//   agora admin create-key  --data-dir DIR --user NAME [--expires-days N]
//       prints what it made, then the new key alone on the last line of stdout (shown only once)
//   agora admin list-users  --data-dir DIR
//   agora admin revoke-key  --data-dir DIR KEY_ID_OR_PREFIX
// Errors: one line on stderr; exit code 2 for bad usage or input (unknown user, duplicate name,
// no data directory), 1 when the storage itself fails.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "platform/accounts/accounts.h"
#include "platform/storage/store.h"

namespace agora::cli {

namespace {

constexpr int kMaxExpiresDays = 36500;

struct AdminArgs {
  std::string data_dir = storage::kDefaultDataDir;
  std::string name;          // create-user
  std::string org;           // create-user
  bool password_stdin = false;
  std::string user;          // create-key
  int expires_days = 0;      // create-key (0 = never)
  std::string key;           // revoke-key
};

// Exit code for a storage/accounts error: the caller's input (2) or the storage (1).
int code_for(const storage::StoreStatus& st) {
  switch (st.code()) {
    case storage::StoreErrc::unavailable:
    case storage::StoreErrc::internal: return 1;
    default: return 2;
  }
}

std::unique_ptr<storage::Store> open(const AdminArgs& a, bool create) {
  storage::StoreOptions opts;
  opts.data_dir = a.data_dir;
  opts.create_if_missing = create;
  auto store = storage::open_store(opts);
  if (!store) {
    fail(code_for(store.status()), store.status().message());
    return nullptr;
  }
  return std::move(*store);
}

std::string format_time(storage::Timestamp t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void create_user(const AdminArgs& a) {
  std::optional<std::string> password;
  if (a.password_stdin) {
    std::string pw((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (!pw.empty() && pw.back() == '\n') pw.pop_back();
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    if (pw.empty()) {
      fail(2, "--password-stdin: no password on standard input");
      return;
    }
    password = std::move(pw);
  }
  if (!accounts::is_valid_account_name(a.name)) {
    fail(2, "invalid user name '" + a.name + "' (1-64 characters of A-Z a-z 0-9 . _ @ -)");
    return;
  }
  auto store = open(a, /*create=*/true);
  if (!store) return;
  accounts::Accounts acc(*store);
  auto user = acc.create_user(a.name, a.org.empty() ? std::nullopt : std::optional(a.org), password);
  if (!user) {
    fail(code_for(user.status()), user.status().message());
    return;
  }
  std::printf("created user %s (%s)%s%s\n", user->name.c_str(), user->id.c_str(),
              a.org.empty() ? "" : " in organization ", a.org.c_str());
}

void create_key(const AdminArgs& a) {
  if (a.expires_days < 0 || a.expires_days > kMaxExpiresDays) {
    fail(2, "--expires-days must be between 1 and " + std::to_string(kMaxExpiresDays));
    return;
  }
  auto store = open(a, /*create=*/false);
  if (!store) return;
  auto user = store->find_user(a.user);
  if (!user) {
    fail(code_for(user.status()), user.code() == storage::StoreErrc::not_found ? "no user named '" + a.user + "'"
                                                                               : user.status().message());
    return;
  }
  std::optional<storage::Timestamp> expires;
  if (a.expires_days > 0) expires = static_cast<storage::Timestamp>(std::time(nullptr)) + a.expires_days * 86400LL;
  accounts::Accounts acc(*store);
  auto key = acc.create_key(user->id, expires);
  if (!key) {
    fail(code_for(key.status()), key.status().message());
    return;
  }
  std::printf("created key %s (%s…) for %s, expires %s; it is shown only this once:\n", key->record.id.c_str(),
              key->record.prefix.c_str(), user->name.c_str(),
              expires ? format_time(*expires).c_str() : "never");
  std::printf("%s\n", key->secret.c_str());
}

void list_users(const AdminArgs& a) {
  auto store = open(a, /*create=*/false);
  if (!store) return;
  auto users = store->list_users();
  auto orgs = store->list_organizations();
  if (!users || !orgs) {
    const auto st = !users ? users.status() : orgs.status();
    fail(code_for(st), st.message());
    return;
  }
  std::map<std::string, std::string> org_names;
  for (const auto& o : *orgs) org_names[o.id] = o.name;
  const auto now = static_cast<storage::Timestamp>(std::time(nullptr));
  std::printf("%-24s %-29s %-16s %-20s %s\n", "NAME", "ID", "ORG", "CREATED", "ACTIVE_KEYS");
  for (const auto& u : *users) {
    auto keys = store->list_api_keys(u.id);
    if (!keys) {
      fail(code_for(keys.status()), keys.status().message());
      return;
    }
    int n_active = 0;
    for (const auto& k : *keys) n_active += k.usable_at(now) ? 1 : 0;
    const std::string org = u.org_id ? org_names[*u.org_id] : "-";
    std::printf("%-24s %-29s %-16s %-20s %d\n", u.name.c_str(), u.id.c_str(), org.c_str(),
                format_time(u.created_at).c_str(), n_active);
  }
}

void revoke_key(const AdminArgs& a) {
  auto store = open(a, /*create=*/false);
  if (!store) return;
  accounts::Accounts acc(*store);
  auto key = acc.revoke_key(a.key);
  if (!key) {
    fail(code_for(key.status()), key.status().message());
    return;
  }
  auto user = store->get_user(key->user_id);
  std::printf("revoked key %s (%s…) of %s\n", key->id.c_str(), key->prefix.c_str(),
              user ? user->name.c_str() : key->user_id.c_str());
}

}  // namespace

void register_admin(CLI::App& app) {
  auto args = std::make_shared<AdminArgs>();
  CLI::App* admin = app.add_subcommand("admin", "Manage users and API keys in a data directory");
  admin->require_subcommand(1);
  auto data_dir = [&](CLI::App* c) {
    c->add_option("--data-dir", args->data_dir, "Data directory")->capture_default_str();
  };

  CLI::App* cu = admin->add_subcommand("create-user", "Create a user (and its organization if new)");
  data_dir(cu);
  cu->add_option("name", args->name, "User name")->required();
  cu->add_option("--org", args->org, "Organization name (created if missing)");
  cu->add_flag("--password-stdin", args->password_stdin, "Read a password from standard input");
  cu->callback([args] { create_user(*args); });

  CLI::App* ck = admin->add_subcommand("create-key", "Create an API key (printed once, on the last line)");
  data_dir(ck);
  ck->add_option("--user", args->user, "User name")->required();
  ck->add_option("--expires-days", args->expires_days, "Days until the key expires (default: never)")
      ->check(CLI::Range(1, kMaxExpiresDays));
  ck->callback([args] { create_key(*args); });

  CLI::App* lu = admin->add_subcommand("list-users", "List users with their organization and active keys");
  data_dir(lu);
  lu->callback([args] { list_users(*args); });

  CLI::App* rk = admin->add_subcommand("revoke-key", "Revoke an API key by id, display prefix or the key itself");
  data_dir(rk);
  rk->add_option("key", args->key, "Key id (key_…), display prefix (sk-agora-…) or the whole key")->required();
  rk->callback([args] { revoke_key(*args); });
}

}  // namespace agora::cli
