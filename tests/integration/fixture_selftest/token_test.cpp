// The token server: the JWTs it issues are accepted by a real registry, and its grants, OAuth2
// form and counters behave as the header promises.
#include <gtest/gtest.h>

#include "integration/support/itest.hpp"

namespace strata::itest {
namespace {

constexpr const char* k_busybox = "library/busybox:latest";

// The JSON payload of a JWT (base64url, unpadded) decoded with python: small and independent of
// the code under test.
nlohmann::json jwt_claims(const std::string& token) {
  auto r = run({"python3", "-c",
                "import base64,sys;p=sys.argv[1].split('.')[1];"
                "print(base64.urlsafe_b64decode(p+'='*(-len(p)%4)).decode())",
                token});
  if (!r || r->exit_code != 0) return nullptr;
  return nlohmann::json::parse(r->out, nullptr, false);
}

std::string form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string s;
  for (const auto& [k, v] : fields) s += (s.empty() ? "" : "&") + k + "=" + v;  // values are URL-safe
  return s;
}

class TokenAuth : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_UNLESS("docker-registry", "skopeo", "openssl", "python3"); }
};

TEST_F(TokenAuth, RegistryAcceptsIssuedTokensOverHttpRealm) {
  auto reg = ASSERT_OK(RegistryServer::start({.auth = RegistryAuth::token}));
  TokenServer* ts = reg.token_server();
  ASSERT_NE(ts, nullptr);
  EXPECT_EQ(ts->realm().rfind("http://127.0.0.1:", 0), 0u);
  ASSERT_OK(seed_base_image(reg, k_busybox));
  auto info = ASSERT_OK(skopeo_inspect(reg, k_busybox));
  EXPECT_EQ(info["Layers"].size(), 1u);
  auto stats = ASSERT_OK(ts->stats());
  EXPECT_GE(stats["token_requests"].get<int>() + stats["oauth_requests"].get<int>(), 2) << stats.dump();
  EXPECT_GE(stats["issued"].get<int>(), 2);

  // Without credentials the registry answers 401 and the token server refuses anonymous access.
  auto anon = ASSERT_OK(http_request(reg.port(), "GET", "/v2/library/busybox/tags/list"));
  EXPECT_EQ(anon.status, 401);
  EXPECT_NE(anon.headers["www-authenticate"].find("Bearer realm=\"" + ts->realm() + "\""),
            std::string::npos) << anon.headers["www-authenticate"];
  auto refused = ASSERT_OK(http_request(ts->admin_port(), "GET",
                                        "/token?service=strata-test-registry&scope=repository:library/busybox:pull"));
  EXPECT_EQ(refused.status, 401);

  // A token from the server, presented by hand, opens the same endpoint.
  auto tok = ASSERT_OK(http_request(ts->admin_port(), "GET",
                                    "/token?service=strata-test-registry&scope=repository:library/busybox:pull",
                                    {{"Authorization", basic_auth(ts->user(), ts->password())}}));
  ASSERT_EQ(tok.status, 200) << tok.body;
  auto body = nlohmann::json::parse(tok.body);
  std::string token = body["token"];
  EXPECT_EQ(body["access_token"], token);
  EXPECT_EQ(body["expires_in"], 300);
  EXPECT_TRUE(body.contains("issued_at"));
  auto listed = ASSERT_OK(http_request(reg.port(), "GET", "/v2/library/busybox/tags/list",
                                       {{"Authorization", "Bearer " + token}}));
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find("latest"), std::string::npos);

  auto claims = jwt_claims(token);
  EXPECT_EQ(claims["iss"], "strata-test-issuer");
  EXPECT_EQ(claims["aud"], "strata-test-registry");
  EXPECT_EQ(claims["sub"], ts->user());
  EXPECT_EQ(claims["access"][0]["name"], "library/busybox");
  EXPECT_EQ(claims["access"][0]["actions"], nlohmann::json::array({"pull"}));
}

TEST_F(TokenAuth, TlsRegistryWithHttpsRealm) {
  auto reg = ASSERT_OK(RegistryServer::start({.transport = RegistryTransport::tls,
                                              .auth = RegistryAuth::token,
                                              .token = {.transport = TokenTransport::https}}));
  EXPECT_EQ(reg.token_server()->realm().rfind("https://127.0.0.1:", 0), 0u);
  ASSERT_OK(seed_base_image(reg, k_busybox));
  ASSERT_OK(skopeo_inspect(reg, k_busybox));
  // Wrong credentials are refused by the token server.
  auto r = ASSERT_OK(run_skopeo({"inspect", "--raw", "--cert-dir", reg.cert_dir(), "--creds",
                          reg.user() + ":wrong", "docker://" + reg.host() + "/library/busybox:latest"}));
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_GE(ASSERT_OK(reg.token_server()->stats())["denied"].get<int>(), 1);
}

TEST_F(TokenAuth, AnonymousPullOnlyGetsPull) {
  auto reg = ASSERT_OK(RegistryServer::start(
      {.auth = RegistryAuth::token, .token = {.anonymous_pull = AnonymousPull::allowed}}));
  ASSERT_OK(seed_base_image(reg, k_busybox));
  TokenServer* ts = reg.token_server();
  auto tok = ASSERT_OK(http_request(ts->admin_port(), "GET",
                                    "/token?service=strata-test-registry&scope=repository:library/busybox:pull,push"));
  ASSERT_EQ(tok.status, 200) << tok.body;
  auto claims = jwt_claims(nlohmann::json::parse(tok.body)["token"]);
  EXPECT_EQ(claims["sub"], "");
  EXPECT_EQ(claims["access"][0]["actions"], nlohmann::json::array({"pull"}));
  // skopeo without credentials can read.
  auto r = ASSERT_OK(run_skopeo({"inspect", "--raw", "--tls-verify=false",
                          "docker://" + reg.host() + "/library/busybox:latest"}));
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

TEST_F(TokenAuth, OAuth2PasswordAndRefreshGrants) {
  auto ts = ASSERT_OK(TokenServer::start({.allowed_actions = "pull"}));
  const std::vector<std::pair<std::string, std::string>> form_type{
      {"Content-Type", "application/x-www-form-urlencoded"}};
  auto pw = ASSERT_OK(http_request(ts.admin_port(), "POST", "/token", form_type,
                                   form({{"grant_type", "password"}, {"username", ts.user()},
                                         {"password", ts.password()}, {"service", "svc"},
                                         {"client_id", "strata"},
                                         {"scope", "repository:a/b:pull,push"}})));
  ASSERT_EQ(pw.status, 200) << pw.body;
  auto body = nlohmann::json::parse(pw.body);
  ASSERT_TRUE(body.contains("refresh_token"));
  auto claims = jwt_claims(body["access_token"]);
  EXPECT_EQ(claims["aud"], "svc");
  EXPECT_EQ(claims["access"][0]["actions"], nlohmann::json::array({"pull"}))
      << "allowed_actions limits grants";

  for (std::string refresh : {body["refresh_token"].get<std::string>(), ts.identity_token()}) {
    auto rt = ASSERT_OK(http_request(ts.admin_port(), "POST", "/token", form_type,
                                     form({{"grant_type", "refresh_token"}, {"refresh_token", refresh},
                                           {"service", "svc"}, {"scope", "repository:a/b:pull"}})));
    EXPECT_EQ(rt.status, 200) << rt.body;
  }
  auto bad = ASSERT_OK(http_request(ts.admin_port(), "POST", "/token", form_type,
                                    form({{"grant_type", "password"}, {"username", ts.user()},
                                          {"password", "nope"}, {"service", "svc"}})));
  EXPECT_EQ(bad.status, 401);
  auto bad_refresh = ASSERT_OK(http_request(ts.admin_port(), "POST", "/token", form_type,
                                            form({{"grant_type", "refresh_token"},
                                                  {"refresh_token", "unknown"}})));
  EXPECT_EQ(bad_refresh.status, 401);

  auto offline = ASSERT_OK(http_request(ts.admin_port(), "GET", "/token?service=svc&offline_token=true",
                                        {{"Authorization", basic_auth(ts.user(), ts.password())}}));
  EXPECT_TRUE(nlohmann::json::parse(offline.body).contains("refresh_token")) << offline.body;

  auto stats = ASSERT_OK(ts.stats());
  EXPECT_EQ(stats["oauth_requests"], 2);
  EXPECT_EQ(stats["refresh_requests"], 3);
  EXPECT_EQ(stats["token_requests"], 1);
  EXPECT_EQ(stats["denied"], 2);
  EXPECT_EQ(stats["issued"], 4);
}

TEST_F(TokenAuth, OAuth2CanBeDisabled) {
  auto ts = ASSERT_OK(TokenServer::start({.oauth2 = OAuth2::disabled}));
  auto r = ASSERT_OK(http_request(ts.admin_port(), "POST", "/token", {}, "grant_type=password"));
  EXPECT_EQ(r.status, 404);
}

}  // namespace
}  // namespace strata::itest
