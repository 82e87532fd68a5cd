#include <gtest/gtest.h>

#include "auth/token.hpp"

namespace strata::auth {
namespace {

Challenge bearer(std::string realm, std::string service) {
  Challenge c;
  c.scheme = "bearer";
  c.params["realm"] = std::move(realm);
  c.params["service"] = std::move(service);
  return c;
}

TEST(Token, UrlHasServiceAndOneParameterPerScope) {
  auto url = token_url(bearer("https://auth.docker.io/token", "registry.docker.io"),
                       {repository_scope("library/busybox", "pull"), repository_scope("a/b", "pull,push")});
  ASSERT_TRUE(url);
  EXPECT_EQ(*url,
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fbusybox%3Apull"
            "&scope=repository%3Aa%2Fb%3Apull%2Cpush");
}

TEST(Token, RealmWithQueryAndMissingRealm) {
  auto url = token_url(bearer("http://127.0.0.1:9/t?x=1", ""), {"registry:catalog:*"});
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "http://127.0.0.1:9/t?x=1&scope=registry%3Acatalog%3A%2A");
  EXPECT_FALSE(token_url(bearer("", "s"), {}));
  EXPECT_FALSE(token_url(bearer("ftp://x", "s"), {}));
}

TEST(Token, ParsesTokenOrAccessTokenWithExpiry) {
  auto now = std::chrono::system_clock::from_time_t(1000);
  auto t = parse_token_response(R"({"token":"abc","access_token":"def","expires_in":300,"issued_at":"2020-01-01T00:00:00Z"})", now);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->value, "abc");
  EXPECT_EQ(t->expires_at, now + std::chrono::seconds(300));

  t = parse_token_response(R"({"access_token":"def","refresh_token":"r1"})", now);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->value, "def");
  EXPECT_EQ(t->refresh_token, "r1");
  EXPECT_EQ(t->expires_at, now + std::chrono::seconds(60));  // default and minimum

  t = parse_token_response(R"({"token":"x","expires_in":5})", now);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->expires_at, now + std::chrono::seconds(60));
}

TEST(Token, BadResponsesAreCorrupt) {
  auto now = std::chrono::system_clock::now();
  for (const char* bad : {"", "not json", "[]", R"({"expires_in":60})", R"({"token":""})", R"({"token":5})"}) {
    auto t = parse_token_response(bad, now);
    EXPECT_FALSE(t) << bad;
    if (!t) {
      EXPECT_EQ(t.error().kind(), ErrorKind::corrupt);
    }
  }
}

TEST(Token, OAuthForms) {
  auto c = bearer("https://r/token", "reg");
  EXPECT_EQ(oauth_refresh_form(c, {"repository:a:pull", "repository:b:pull"}, "ref+tok", "strata"),
            "grant_type=refresh_token&refresh_token=ref%2Btok&service=reg"
            "&scope=repository%3Aa%3Apull%20repository%3Ab%3Apull&client_id=strata");
  EXPECT_EQ(oauth_password_form(c, {}, "u@x", "p&w", "strata"),
            "grant_type=password&username=u%40x&password=p%26w&access_type=offline&service=reg&client_id=strata");
}

TEST(Token, Base64AndBasic) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

}  // namespace
}  // namespace strata::auth
