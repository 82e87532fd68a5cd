#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "auth/token.hpp"
#include "unit/registry/fake_transport.hpp"
#include "util/log.hpp"

namespace strata::test {
namespace {

using transport::Method;

const std::string k_manifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]})";

// A token-auth registry at reg.test:5000 with its token server at auth.test. Tokens are
// "tok-N"; the registry accepts a token when it was issued for a scope containing the
// repository's pull (or push, for PUT).
struct TokenRegistry {
  int issued = 0;
  std::map<std::string, std::string> scope_of;  // token → scope query it was issued for
  std::string realm = "https://auth.test/token";
  std::string required_push_scope;               // when set, PUT needs a token that mentions push

  Reply handle(const Recorded& r) {
    if (r.url == "https://reg.test:5000/v2/") return challenge("");
    if (r.url.starts_with(realm)) {
      std::string name = "tok-" + std::to_string(++issued) + "-secret";
      scope_of[name] = r.method == Method::post ? r.body : r.url;
      std::string field = r.method == Method::post ? "access_token" : "token";
      return Reply{200, {}, R"({")" + field + R"(":")" + name + R"(","expires_in":300})"};
    }
    auto auth = r.headers.get("Authorization");
    std::string token = auth && auth->starts_with("Bearer ") ? auth->substr(7) : "";
    if (token.empty() || !scope_of.count(token)) return challenge("repository:lib/app:pull");
    if (r.method == Method::put && scope_of[token].find("push") == std::string::npos) {
      return challenge("repository:lib/app:pull,push", true);
    }
    return Reply{200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, k_manifest};
  }

  Reply challenge(const std::string& scope, bool insufficient = false) {
    std::string value = R"(Bearer realm=")" + realm + R"(",service="reg.test")";
    if (!scope.empty()) value += R"(,scope=")" + scope + "\"";
    if (insufficient) value += R"(,error="insufficient_scope")";
    return Reply{401, {{"WWW-Authenticate", value}}, R"({"errors":[{"code":"UNAUTHORIZED"}]})"};
  }
};

TEST(AuthFlow, AnonymousTokenIsFetchedWithoutCredentialsAndUsed) {
  TokenRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  auto client = make_client(t, env);
  auto m = client->get_manifest(parse_ref("reg.test:5000/lib/app:1"));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->bytes, k_manifest);
  auto tokens = t->matching(Method::get, "auth.test/token");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].url, "https://auth.test/token?service=reg.test&scope=repository%3Alib%2Fapp%3Apull");
  EXPECT_FALSE(tokens[0].headers.get("Authorization"));
  auto gets = t->matching(Method::get, "/manifests/1");
  ASSERT_EQ(gets.size(), 1u);  // the token was obtained before the request: no 401 round trip
  EXPECT_EQ(gets[0].headers.get("Authorization").value_or(""), "Bearer tok-1-secret");
}

TEST(AuthFlow, TokenRequestCarriesBasicCredentials) {
  TokenRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  registry::Login login;
  login.username = "alice";
  login.password = "s3cret-pass";
  auto client = make_client(t, env, {}, login);
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  auto tokens = t->matching(Method::get, "auth.test/token");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].headers.get("Authorization").value_or(""), auth::basic_authorization("alice", "s3cret-pass"));
}

TEST(AuthFlow, IdentityTokenUsesOAuth2RefreshPost) {
  TokenRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  registry::Login login;
  login.identity_token = "refresh-me-please";
  auto client = make_client(t, env, {}, login);
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  auto posts = t->matching(Method::post, "auth.test/token");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].headers.get("Content-Type").value_or(""), "application/x-www-form-urlencoded");
  EXPECT_NE(posts[0].body.find("grant_type=refresh_token"), std::string::npos);
  EXPECT_NE(posts[0].body.find("refresh_token=refresh-me-please"), std::string::npos);
  EXPECT_NE(posts[0].body.find("service=reg.test"), std::string::npos);
  EXPECT_NE(posts[0].body.find("scope=repository%3Alib%2Fapp%3Apull"), std::string::npos);
  EXPECT_TRUE(t->matching(Method::get, "auth.test/token").empty());
  EXPECT_EQ(t->matching(Method::get, "/manifests/1")[0].headers.get("Authorization").value_or(""),
            "Bearer tok-1-secret");
}

TEST(AuthFlow, IdentityTokenFallsBackToGetWhenRealmRejectsPost) {
  TokenRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.method == Method::post && r.url.starts_with(reg.realm)) return Reply{405, {}, ""};
    return reg.handle(r);
  });
  FakeEnv env;
  registry::Login login;
  login.identity_token = "refresh-me-please";
  auto client = make_client(t, env, {}, login);
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  EXPECT_EQ(t->matching(Method::get, "auth.test/token").size(), 1u);
}

TEST(AuthFlow, TokensAreReusedPerScopeUntilExpiry) {
  TokenRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  auto client = make_client(t, env);
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  EXPECT_EQ(client->session().token_requests(), 1);
  EXPECT_EQ(t->matching(Method::get, "/v2/").size() - t->matching(Method::get, "/v2/lib").size(), 1u)
      << "ping once per registry";

  // Another repository is another scope: another token.
  (void)client->get_manifest(parse_ref("reg.test:5000/lib/other:1"));
  EXPECT_EQ(client->session().token_requests(), 2);

  // expires_in 300 s: after 280 s (inside the 30 s margin) a fresh token is fetched.
  env.now += std::chrono::seconds(280);
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  EXPECT_EQ(client->session().token_requests(), 3);
}

TEST(AuthFlow, InsufficientScopeChallengeFetchesABroaderToken) {
  TokenRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  auto client = make_client(t, env);
  // put_manifest asks for pull,push itself; make a GET-then-PUT with a pull token cached and
  // check the retry path by pre-seeding a pull-only token under the push call's scope key.
  auto session_call = [&]() {
    registry::Call call;
    call.method = Method::put;
    call.registry = "reg.test:5000";
    call.purpose = registry::Purpose::pull;
    call.target = "/v2/lib/app/manifests/1";
    call.scopes = {"repository:lib/app:pull"};
    call.body_bytes = k_manifest;
    return client->session().call(call);
  };
  auto r = session_call();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200);
  auto tokens = t->matching(Method::get, "auth.test/token");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[1].url.find("scope=repository%3Alib%2Fapp%3Apull&scope=repository%3Alib%2Fapp%3Apull%2Cpush"),
            tokens[1].url.find("scope="));
  auto puts = t->matching(Method::put, "/manifests/1");
  ASSERT_EQ(puts.size(), 2u);
  EXPECT_EQ(puts[1].headers.get("Authorization").value_or(""), "Bearer tok-2-secret");
}

TEST(AuthFlow, BasicRegistryGetsBasicCredentials) {
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.ends_with("/v2/")) return Reply{401, {{"WWW-Authenticate", R"(Basic realm="Registry Realm")"}}, ""};
    if (r.headers.get("Authorization") != auth::basic_authorization("bob", "hunter22")) {
      return Reply{401, {{"WWW-Authenticate", R"(Basic realm="Registry Realm")"}}, ""};
    }
    return Reply{200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, k_manifest};
  });
  FakeEnv env;
  registry::Login login{"bob", "hunter22", "", ""};
  auto client = make_client(t, env, {}, login);
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));

  auto anonymous = make_client(t, env);
  auto denied = anonymous->get_manifest(parse_ref("reg.test:5000/lib/app:1"));
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().kind(), ErrorKind::unauthorized);
}

TEST(AuthFlow, RejectedCredentialsAreUnauthorized) {
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) {
    if (r.url.starts_with("https://auth.test/")) return Reply{401, {}, ""};
    return Reply{401, {{"WWW-Authenticate", R"(Bearer realm="https://auth.test/token",service="s")"}}, ""};
  });
  FakeEnv env;
  auto client = make_client(t, env, {}, registry::Login{"u", "wrong-password", "", ""});
  auto r = client->get_manifest(parse_ref("reg.test:5000/lib/app:1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::unauthorized);
  EXPECT_NE(r.error().message().find("rejected the credentials"), std::string::npos);
}

TEST(AuthFlow, RegistryTokenIsSentAsBearerWithoutTokenServer) {
  TokenRegistry reg;
  reg.scope_of["static-registry-token"] = "repository:lib/app:pull";
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  registry::Login login;
  login.registry_token = "static-registry-token";
  auto client = make_client(t, env, {}, login);
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  EXPECT_EQ(client->session().token_requests(), 0);
}

TEST(AuthFlow, SecretsNeverReachTheLog) {
  char path[] = "/tmp/strata-authlog-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  log::Options saved = log::options();
  log::Options verbose = saved;
  verbose.level = log::Level::trace;
  log::configure(verbose);
  log::set_sink(fd);

  TokenRegistry reg;
  auto t = std::make_shared<FakeTransport>([&](const Recorded& r) { return reg.handle(r); });
  FakeEnv env;
  registry::Login login{"carol", "pa55word-carol", "", ""};
  auto client = make_client(t, env, {}, login);
  ASSERT_TRUE(client->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  registry::Login refresh;
  refresh.identity_token = "identity-token-xyz";
  auto client2 = make_client(t, env, {}, refresh);
  ASSERT_TRUE(client2->get_manifest(parse_ref("reg.test:5000/lib/app:1")));
  // A message that happens to include a token is redacted too.
  log::debug("token was tok-1-secret");

  log::set_sink(STDERR_FILENO);
  log::configure(saved);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  ::close(fd);
  ::unlink(path);
  std::string out = text.str();
  EXPECT_FALSE(out.empty()) << "trace logging produced nothing: the test would prove nothing";
  for (const std::string& secret : std::vector<std::string>{"tok-1-secret", "tok-2-secret", "pa55word-carol", "identity-token-xyz",
                             auth::base64_encode("carol:pa55word-carol")}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " leaked into:\n" << out;
  }
  EXPECT_EQ(out.find("Authorization"), std::string::npos) << out;
}

}  // namespace
}  // namespace strata::test
