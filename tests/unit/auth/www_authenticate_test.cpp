#include <gtest/gtest.h>

#include "auth/www_authenticate.hpp"

namespace strata::auth {
namespace {

TEST(WwwAuthenticate, DockerHubBearer) {
  auto c = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].scheme, "bearer");
  EXPECT_EQ((*c)[0].param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ((*c)[0].param("service"), "registry.docker.io");
  EXPECT_EQ((*c)[0].param("scope"), "repository:library/busybox:pull");
}

TEST(WwwAuthenticate, BasicCaseInsensitiveSchemeAndNames) {
  auto c = parse_www_authenticate(R"(BASIC Realm="Registry Realm")");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].scheme, "basic");
  EXPECT_EQ((*c)[0].param("REALM"), "Registry Realm");
  EXPECT_NE(find_challenge(*c, "Basic"), nullptr);
  EXPECT_EQ(find_challenge(*c, "bearer"), nullptr);
}

TEST(WwwAuthenticate, SeveralChallengesInOneHeader) {
  auto c = parse_www_authenticate(R"(Basic realm="a, b", Bearer realm="https://t/token",service=reg ,  scope="x y")");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].scheme, "basic");
  EXPECT_EQ((*c)[0].param("realm"), "a, b");
  EXPECT_EQ((*c)[1].scheme, "bearer");
  EXPECT_EQ((*c)[1].param("service"), "reg");
  EXPECT_EQ((*c)[1].param("scope"), "x y");
}

TEST(WwwAuthenticate, QuotedStringEscapes) {
  auto c = parse_www_authenticate(R"(Bearer realm="https://t/\"quoted\"\\path",error="insufficient_scope")");
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)[0].param("realm"), R"(https://t/"quoted"\path)");
  EXPECT_EQ((*c)[0].param("error"), "insufficient_scope");
}

TEST(WwwAuthenticate, SpacesAroundEqualsAndEmptyListElements) {
  auto c = parse_www_authenticate(R"(, Bearer realm = "r" , , service= "s",)");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].param("realm"), "r");
  EXPECT_EQ((*c)[0].param("service"), "s");
}

TEST(WwwAuthenticate, SchemeWithoutParamsAndToken68) {
  auto c = parse_www_authenticate("Negotiate, NTLM abc+/def==, Basic realm=x");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[0].scheme, "negotiate");
  EXPECT_TRUE((*c)[0].params.empty());
  EXPECT_EQ((*c)[1].token68, "abc+/def==");
  EXPECT_EQ((*c)[2].param("realm"), "x");
}

TEST(WwwAuthenticate, TrailingEqualsIsToken68NotAnEmptyParameter) {
  auto c = parse_www_authenticate("Bearer realm=");
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)[0].token68, "realm=");
  EXPECT_TRUE((*c)[0].params.empty());
}

TEST(WwwAuthenticate, EmptyValueQuoted) {
  auto c = parse_www_authenticate(R"(Bearer realm="",service="")");
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)[0].param("realm"), "");
  EXPECT_TRUE((*c)[0].params.count("service"));
}

TEST(WwwAuthenticate, MalformedInputsAreErrors) {
  for (const char* bad : {R"(Bearer realm="unterminated)", R"(Bearer realm="a", =b)", R"(Bearer realm="a",realm="b")",
                          R"(="x")", R"(Bearer realm="a" junk)", "Bearer realm=\"a\\"}) {
    auto c = parse_www_authenticate(bad);
    EXPECT_FALSE(c) << bad;
    if (!c) {
      EXPECT_EQ(c.error().kind(), ErrorKind::invalid_argument);
    }
  }
}

TEST(WwwAuthenticate, EmptyHeaderHasNoChallenges) {
  auto c = parse_www_authenticate("  ");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->empty());
}

TEST(WwwAuthenticate, AllSkipsBadHeaders) {
  auto c = parse_www_authenticate_all({R"(Bearer realm="x)", R"(Basic realm="ok")"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
}

}  // namespace
}  // namespace strata::auth
