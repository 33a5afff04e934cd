// The start-up auth decision (issue 9: single-user mode only on loopback with no users; refuse a
// non-loopback host without --auth/--api-key/--no-auth) and the cookie parser.
#include <gtest/gtest.h>

#include "platform/auth/request_auth.h"

namespace agora::platform::auth {
namespace {

TEST(AuthDecision, FlagsUsersAndHost) {
  EXPECT_EQ(decide_auth_mode(false, false, false, "127.0.0.1", 0).mode, AuthMode::open);
  EXPECT_EQ(decide_auth_mode(false, false, false, "::1", 0).mode, AuthMode::open);
  EXPECT_EQ(decide_auth_mode(false, false, false, "localhost", 0).mode, AuthMode::open);
  EXPECT_EQ(decide_auth_mode(false, false, false, "127.0.0.1", 2).mode, AuthMode::required);
  EXPECT_EQ(decide_auth_mode(true, false, false, "127.0.0.1", 0).mode, AuthMode::required);
  EXPECT_FALSE(decide_auth_mode(false, false, false, "0.0.0.0", 0).mode.has_value());
  EXPECT_EQ(decide_auth_mode(false, true, false, "0.0.0.0", 0).mode, AuthMode::open);
  EXPECT_EQ(decide_auth_mode(false, false, true, "0.0.0.0", 0).mode, AuthMode::open);  // legacy --api-key
  EXPECT_FALSE(decide_auth_mode(true, true, false, "127.0.0.1", 0).mode.has_value());
  EXPECT_NE(decide_auth_mode(false, false, false, "127.0.0.1", 0).log.find("single-user"), std::string::npos);
}

TEST(Cookies, FindsTheNamedValue) {
  EXPECT_EQ(cookie_value("a=1; agora_session=xyz; b=2", "agora_session"), "xyz");
  EXPECT_EQ(cookie_value("agora_session=xyz", "agora_session"), "xyz");
  EXPECT_EQ(cookie_value("xagora_session=no", "agora_session"), "");
  EXPECT_EQ(cookie_value("", "agora_session"), "");
}

}  // namespace
}  // namespace agora::platform::auth
