// Accounts: Argon2id passwords, API keys (shown once, stored as SHA-256, revocable, expiring),
// and authenticate().
// ctest-labels: unit
#include "platform/accounts/accounts.h"

#include <gtest/gtest.h>

#include <ctime>

#include "platform/accounts/api_key.h"
#include "platform/accounts/password_hash.h"
#include "platform/storage/store.h"
#include "platform/storage/storage_test_util.h"

namespace agora::accounts {
namespace {

using storage::StoreErrc;
using storage::test::ScratchDir;

TEST(PasswordHash, Argon2idRoundTrip) {
  auto h = hash_password("correct horse", test_cost());
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u) << *h;
  EXPECT_TRUE(verify_password(*h, "correct horse"));
  EXPECT_FALSE(verify_password(*h, "correct horse "));
  EXPECT_FALSE(verify_password(*h, ""));
  EXPECT_FALSE(verify_password("", "correct horse"));
  EXPECT_FALSE(verify_password("$argon2id$garbage", "correct horse"));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*h, *hash_password("correct horse", test_cost()));
  EXPECT_EQ(hash_password("", test_cost()).code(), StoreErrc::invalid_argument);
  EXPECT_EQ(hash_password(std::string(kMaxPasswordBytes + 1, 'x'), test_cost()).code(), StoreErrc::invalid_argument);
  EXPECT_TRUE(hash_password(std::string(kMaxPasswordBytes, 'x'), test_cost()).ok());
}

TEST(ApiKeyFormat, ShapeHashAndPrefix) {
  const std::string k = generate_api_key();
  EXPECT_EQ(k.rfind("sk-agora-", 0), 0u);
  EXPECT_EQ(k.size(), kApiKeyPrefix.size() + kApiKeyRandomChars);
  EXPECT_TRUE(is_api_key_shaped(k));
  EXPECT_FALSE(is_api_key_shaped(k.substr(0, k.size() - 1)));
  EXPECT_FALSE(is_api_key_shaped("sk-other-" + k.substr(9)));
  EXPECT_NE(k, generate_api_key());
  EXPECT_EQ(display_prefix(k), k.substr(0, 15));
  // SHA-256 of "abc" (FIPS 180-2 test vector).
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::test::open_or_die(tmp_.path());
    ASSERT_TRUE(store_);
    acc_ = std::make_unique<Accounts>(*store_, test_cost());
  }
  ScratchDir tmp_{"accounts"};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Accounts> acc_;
};

TEST_F(AccountsTest, UsersOrganizationsAndPasswords) {
  auto alice = acc_->create_user("alice", "acme", "s3cret");
  ASSERT_TRUE(alice.ok()) << alice.status().message();
  auto bob = acc_->create_user("bob", "acme", std::nullopt);
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(alice->org_id, bob->org_id);  // the organisation was created once and reused
  EXPECT_EQ(store_->list_organizations()->size(), 1u);
  EXPECT_NE(alice->password_hash.find("$argon2id$"), std::string::npos);
  EXPECT_TRUE(bob->password_hash.empty());
  EXPECT_EQ(acc_->create_user("alice", std::nullopt, std::nullopt).code(), StoreErrc::conflict);
  EXPECT_EQ(acc_->create_user("bad name", std::nullopt, std::nullopt).code(), StoreErrc::invalid_argument);
  EXPECT_EQ(acc_->create_user(std::string(65, 'a'), std::nullopt, std::nullopt).code(), StoreErrc::invalid_argument);
  EXPECT_EQ(acc_->create_user("carol", "bad/org", std::nullopt).code(), StoreErrc::invalid_argument);

  EXPECT_EQ(acc_->verify_login("alice", "s3cret")->id, alice->id);
  EXPECT_EQ(acc_->verify_login("alice", "wrong").code(), StoreErrc::not_found);
  EXPECT_EQ(acc_->verify_login("nobody", "s3cret").code(), StoreErrc::not_found);
  EXPECT_EQ(acc_->verify_login("bob", "").code(), StoreErrc::not_found);  // no password set
}

TEST_F(AccountsTest, KeysAuthenticateUntilRevokedOrExpired) {
  auto alice = acc_->create_user("alice", std::nullopt, std::nullopt);
  auto key = acc_->create_key(alice->id, std::nullopt);
  ASSERT_TRUE(key.ok()) << key.status().message();
  // Stored hashed: the secret appears nowhere in the row.
  EXPECT_EQ(key->record.key_hash, sha256_hex(key->secret));
  EXPECT_EQ(key->record.key_hash.find(key->secret), std::string::npos);
  EXPECT_EQ(key->record.prefix, display_prefix(key->secret));

  auto who = acc_->authenticate("Bearer " + key->secret);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(who->user.id, alice->id);
  EXPECT_EQ(who->key_id, key->record.id);
  EXPECT_EQ(who->owner().id, alice->id);
  EXPECT_TRUE(acc_->authenticate("bearer " + key->secret).ok());
  EXPECT_TRUE(acc_->authenticate(key->secret).ok());
  for (const std::string& bad : {std::string(""), std::string("Bearer"), std::string("Bearer "),
                                "Bearer " + key->secret.substr(0, key->secret.size() - 1) + "x",
                                "Basic " + key->secret, std::string("Bearer sk-agora-short"), "Bearer " + key->secret + "x"}) {
    EXPECT_EQ(acc_->authenticate(bad).code(), StoreErrc::not_found) << bad;
  }

  // Expiry.
  const auto now = static_cast<storage::Timestamp>(std::time(nullptr));
  auto expiring = acc_->create_key(alice->id, now + 100);
  ASSERT_TRUE(expiring.ok());
  EXPECT_TRUE(acc_->authenticate_at(expiring->secret, now + 99).ok());
  EXPECT_EQ(acc_->authenticate_at(expiring->secret, now + 100).code(), StoreErrc::not_found);
  EXPECT_EQ(acc_->create_key(alice->id, now - 1).code(), StoreErrc::invalid_argument);
  EXPECT_EQ(acc_->create_key("user_nope", std::nullopt).code(), StoreErrc::not_found);

  // Revocation by id, by display prefix, by the whole key.
  ASSERT_TRUE(acc_->revoke_key(key->record.id).ok());
  EXPECT_EQ(acc_->authenticate("Bearer " + key->secret).code(), StoreErrc::not_found);
  EXPECT_TRUE(acc_->authenticate(expiring->secret).ok());  // other keys unaffected
  ASSERT_TRUE(acc_->revoke_key(expiring->record.prefix).ok());
  EXPECT_EQ(acc_->authenticate(expiring->secret).code(), StoreErrc::not_found);
  auto third = acc_->create_key(alice->id, std::nullopt);
  ASSERT_TRUE(acc_->revoke_key(third->secret).ok());
  EXPECT_EQ(acc_->authenticate(third->secret).code(), StoreErrc::not_found);
  EXPECT_EQ(acc_->revoke_key("sk-agora-").code(), StoreErrc::invalid_argument);
  EXPECT_EQ(acc_->revoke_key("key_nope").code(), StoreErrc::not_found);
}

TEST_F(AccountsTest, AmbiguousPrefixIsRefused) {
  auto alice = acc_->create_user("alice", std::nullopt, std::nullopt);
  // Two keys that share a display prefix (forced through the Store).
  storage::ApiKey k;
  k.user_id = alice->id;
  k.prefix = "sk-agora-SAME00";
  k.key_hash = std::string(64, '1');
  ASSERT_TRUE(store_->create_api_key(k).ok());
  k.key_hash = std::string(64, '2');
  ASSERT_TRUE(store_->create_api_key(k).ok());
  EXPECT_EQ(acc_->revoke_key("sk-agora-SAME").code(), StoreErrc::conflict);
  EXPECT_EQ(acc_->revoke_key("sk-agora-SAME00").code(), StoreErrc::conflict);
}

}  // namespace
}  // namespace agora::accounts
