// The Store's conversations, items, responses and events (conversation_store.h): creation with
// items, cursor pages in both orders, the title search, atomic finish_response (response + events
// + conversation append), the recovery sweep, and tenancy: every call with another owner's ids
// is not_found and changes nothing; every prepared statement on these tables names the owner.
#include <gtest/gtest.h>

#include <regex>

#include "platform/storage/sqlite/sqlite_store.h"
#include "platform/storage/storage_test_util.h"

namespace agora::storage {
namespace {

using test::ScratchDir;

ConversationItem item(const std::string& id, const std::string& text) {
  return ConversationItem{id, "", "", 0, "message",
                          R"({"id":")" + id + R"(","type":"message","role":"user","content":[{"type":"input_text","text":")" +
                              text + R"("}]})"};
}

class ConversationStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sqlite::SqliteStore::open({.data_dir = dir_.path()});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    alice_ = store_->create_user("alice", std::nullopt, "")->id;
    bob_ = store_->create_user("bob", std::nullopt, "")->id;
  }
  ScratchDir dir_{"conv"};
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::string alice_, bob_;
};

TEST_F(ConversationStoreTest, ConversationsItemsAndPages) {
  const Owner a(alice_);
  auto c = store_->create_conversation(a, {.metadata = R"({"title":"Rome trip"})"}, {item("msg_1", "hi")});
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto added = store_->add_conversation_items(a, c->id, {item("msg_2", "b"), item("msg_3", "c")});
  ASSERT_TRUE(added.ok());
  auto asc = store_->list_conversation_items(a, c->id, {.limit = 2, .order = SortOrder::asc});
  ASSERT_TRUE(asc.ok());
  EXPECT_EQ(asc->items.front().id, "msg_1");
  EXPECT_TRUE(asc->has_more);
  auto next = store_->list_conversation_items(a, c->id, {.limit = 2, .order = SortOrder::asc, .after = asc->last_id()});
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->items.size(), 1u);
  EXPECT_EQ(next->items[0].id, "msg_3");
  EXPECT_FALSE(next->has_more);
  // Duplicate item id within one conversation: conflict, nothing added.
  EXPECT_EQ(store_->add_conversation_items(a, c->id, {item("msg_4", "d"), item("msg_1", "dup")}).code(), StoreErrc::conflict);
  EXPECT_EQ(store_->all_conversation_items(a, c->id)->size(), 3u);
  // Title search, case-insensitive.
  ASSERT_TRUE(store_->create_conversation(a, {.metadata = R"({"title":"Paris"})"}, {}).ok());
  EXPECT_EQ(store_->list_conversations(a, {}, "ROME")->items.size(), 1u);
  EXPECT_EQ(store_->list_conversations(a, {}, "")->items.size(), 2u);
  ASSERT_TRUE(store_->delete_conversation_item(a, c->id, "msg_2").ok());
  EXPECT_EQ(store_->all_conversation_items(a, c->id)->size(), 2u);
  ASSERT_TRUE(store_->delete_conversation(a, c->id).ok());
  EXPECT_EQ(store_->get_conversation(a, c->id).code(), StoreErrc::not_found);
  EXPECT_TRUE(store_->check_integrity().ok());
}

TEST_F(ConversationStoreTest, FinishResponseIsAtomicAndRecoverySeesUnfinished) {
  const Owner a(alice_);
  auto c = store_->create_conversation(a, {}, {});
  ResponseRecord r{.id = "resp_1", .status = "in_progress", .background = true, .model = "m",
                   .conversation_id = c->id, .object = R"({"id":"resp_1"})", .input_items = "[]"};
  ASSERT_TRUE(store_->create_response(a, r).ok());
  ASSERT_TRUE(store_->append_response_events(a, "resp_1", {{0, "response.created", "{}"}, {1, "response.in_progress", "{}"}}).ok());
  auto unfinished = store_->unfinished_responses();
  ASSERT_EQ(unfinished->size(), 1u);
  r.status = "completed";
  // A duplicate event sequence number fails the whole finish: nothing of it is visible.
  EXPECT_FALSE(store_->finish_response(a, r, {{1, "dup", "{}"}}, {item("msg_a", "in")}).ok());
  EXPECT_EQ(store_->get_response(a, "resp_1")->status, "in_progress");
  EXPECT_TRUE(store_->all_conversation_items(a, c->id)->empty());
  ASSERT_TRUE(store_->finish_response(a, r, {{2, "response.completed", "{}"}}, {item("msg_a", "in"), item("msg_b", "out")}).ok());
  EXPECT_EQ(store_->get_response(a, "resp_1")->status, "completed");
  EXPECT_EQ(store_->all_conversation_items(a, c->id)->size(), 2u);
  EXPECT_EQ(store_->list_response_events(a, "resp_1", 0)->size(), 2u);
  EXPECT_TRUE(store_->unfinished_responses()->empty());
  ASSERT_TRUE(store_->delete_response(a, "resp_1").ok());
  EXPECT_EQ(store_->list_response_events(a, "resp_1", -1).code(), StoreErrc::not_found);
}

TEST_F(ConversationStoreTest, AnotherOwnersIdsAreNotFoundAndUntouched) {
  const Owner a(alice_), b(bob_);
  auto c = store_->create_conversation(a, {.metadata = R"({"title":"mine"})"}, {item("msg_1", "secret")});
  ASSERT_TRUE(store_->create_response(a, {.id = "resp_a", .model = "m", .object = "{}", .input_items = "[]"}).ok());
  EXPECT_EQ(store_->get_conversation(b, c->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store_->update_conversation(b, {.id = c->id, .metadata = "{}"}).code(), StoreErrc::not_found);
  EXPECT_EQ(store_->delete_conversation(b, c->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store_->add_conversation_items(b, c->id, {item("msg_x", "x")}).code(), StoreErrc::not_found);
  EXPECT_EQ(store_->list_conversation_items(b, c->id, {}).code(), StoreErrc::not_found);
  EXPECT_EQ(store_->all_conversation_items(b, c->id).code(), StoreErrc::not_found);
  EXPECT_EQ(store_->get_conversation_item(b, c->id, "msg_1").code(), StoreErrc::not_found);
  EXPECT_EQ(store_->delete_conversation_item(b, c->id, "msg_1").code(), StoreErrc::not_found);
  EXPECT_TRUE(store_->list_conversations(b, {}, "")->items.empty());
  EXPECT_EQ(store_->list_conversations(b, {.after = c->id}, "").code(), StoreErrc::not_found);
  EXPECT_EQ(store_->get_response(b, "resp_a").code(), StoreErrc::not_found);
  EXPECT_EQ(store_->update_response(b, {.id = "resp_a", .status = "failed", .object = "{}"}).code(), StoreErrc::not_found);
  EXPECT_EQ(store_->append_response_events(b, "resp_a", {{0, "x", "{}"}}).code(), StoreErrc::not_found);
  EXPECT_EQ(store_->list_response_events(b, "resp_a", -1).code(), StoreErrc::not_found);
  EXPECT_FALSE(store_->finish_response(b, {.id = "resp_a", .status = "failed", .object = "{}"}, {}, {}).ok());
  EXPECT_EQ(store_->delete_response(b, "resp_a").code(), StoreErrc::not_found);
  // Untouched for alice.
  EXPECT_EQ(store_->get_conversation(a, c->id)->metadata, R"({"title":"mine"})");
  EXPECT_EQ(store_->all_conversation_items(a, c->id)->size(), 1u);
  EXPECT_EQ(store_->get_response(a, "resp_a")->status, "in_progress");
  EXPECT_TRUE(store_->list_response_events(a, "resp_a", -1)->empty());

  // Every statement on these owned tables names the owner (inserts set it).
  const std::regex owned(R"(\b(FROM|INTO|UPDATE)\s+(conversations|conversation_items|responses|response_events)\b)");
  int checked = 0;
  for (const std::string& sql : store_->prepared_sql()) {
    if (!std::regex_search(sql, owned)) continue;
    if (sql.find("WHERE status IN ('queued', 'in_progress')") != std::string::npos) continue;  // the recovery sweep
    ++checked;
    EXPECT_NE(sql.find("owner_id"), std::string::npos) << sql;
    if (sql.rfind("INSERT", 0) != 0) EXPECT_NE(sql.find("owner_id = ?"), std::string::npos) << sql;
  }
  EXPECT_GE(checked, 12);
}

TEST_F(ConversationStoreTest, ModesSeededAndEditable) {
  auto modes = store_->list_modes();
  ASSERT_TRUE(modes.ok());
  ASSERT_EQ(modes->size(), 2u);
  EXPECT_EQ((*modes)[0].id, "regular");
  EXPECT_EQ((*modes)[1].id, "fun");
  Mode fun = (*modes)[1];
  fun.instructions = "Be funny.";
  ASSERT_TRUE(store_->update_mode(fun).ok());
  EXPECT_EQ(store_->list_modes()->at(1).instructions, "Be funny.");
  EXPECT_EQ(store_->update_mode({.id = "nope"}).code(), StoreErrc::not_found);
}

}  // namespace
}  // namespace agora::storage
