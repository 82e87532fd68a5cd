#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "auth/credential_helper.hpp"
#include "auth/credentials.hpp"
#include "auth/docker_config.hpp"
#include "util/log.hpp"

using namespace strata::auth;
using strata::ErrorKind;

namespace {

namespace fs = std::filesystem;

// A temp dir holding a config dir and a bin dir put first on PATH; env restored afterwards.
class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-creds-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    m_dir = tmpl;
    fs::create_directories(m_dir / "bin");
    fs::create_directories(m_dir / "docker");
    save("PATH");
    save("DOCKER_CONFIG");
    save("HOME");
    std::string path = (m_dir / "bin").string() + ":" + m_saved["PATH"];
    ::setenv("PATH", path.c_str(), 1);
    ::setenv("DOCKER_CONFIG", (m_dir / "docker").c_str(), 1);
  }
  void TearDown() override {
    for (const auto& [name, value] : m_saved) {
      if (value.empty()) ::unsetenv(name.c_str());
      else ::setenv(name.c_str(), value.c_str(), 1);
    }
    if (HasFailure()) {
      std::cerr << "keeping temp dir " << m_dir << "\n";
    } else {
      fs::remove_all(m_dir);
    }
  }
  void save(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    m_saved[name] = v ? v : "";
  }
  void write(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  void write_config(const std::string& json) { write(m_dir / "docker" / "config.json", json); }
  // The fake helper records what it was asked on stdin and answers per server URL.
  void install_helper(const std::string& name) {
    fs::path script = m_dir / "bin" / ("docker-credential-" + name);
    write(script,
          "#!/bin/sh\n"
          "[ \"$1\" = get ] || { echo \"bad verb $1\" >&2; exit 9; }\n"
          "read -r url || true\n"
          "printf '%s\\n' \"$url\" >> \"" + (m_dir / "asked").string() + "\"\n"
          "case \"$url\" in\n"
          "  https://index.docker.io/v1/) echo '{\"ServerURL\":\"'$url'\",\"Username\":\"hubuser\",\"Secret\":\"hub-secret-1\"}' ;;\n"
          "  token.example) echo '{\"ServerURL\":\"token.example\",\"Username\":\"<token>\",\"Secret\":\"refresh-tok-9\"}' ;;\n"
          "  127.0.0.1:5000) echo '{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"u5000\",\"Secret\":\"p5000-secret\"}' ;;\n"
          "  broken.example) echo 'leaked-secret-on-stdout'; echo 'helper exploded' >&2; exit 3 ;;\n"
          "  garbage.example) echo 'not json at all' ;;\n"
          "  slow.example) exec sleep 5 ;;\n"
          "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
          "esac\n");
    fs::permissions(script, fs::perms::owner_all);
  }
  std::string asked() {
    std::ifstream in(m_dir / "asked");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path m_dir;
  std::map<std::string, std::string> m_saved;
};

TEST(DockerConfigKeys, CanonicalRegistryKeys) {
  EXPECT_EQ(registry_key("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(registry_key("index.docker.io"), "docker.io");
  EXPECT_EQ(registry_key("registry-1.docker.io"), "docker.io");
  EXPECT_EQ(registry_key("docker.io"), "docker.io");
  EXPECT_EQ(registry_key("http://127.0.0.1:5000"), "127.0.0.1:5000");
  EXPECT_EQ(registry_key("https://Registry.Example.com:443/v2/"), "registry.example.com:443");
  EXPECT_EQ(helper_server_url("registry-1.docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(helper_server_url("http://ghcr.io/"), "ghcr.io");
  EXPECT_EQ(*base64_decode("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(*base64_decode("YQ=="), "a");
  EXPECT_EQ(*base64_decode("YQ"), "a");
  EXPECT_FALSE(base64_decode("Y"));
  EXPECT_FALSE(base64_decode("a$b="));
}

TEST_F(CredentialsTest, AuthsInEveryFormDockerWrites) {
  write_config(R"({"auths":{
    "https://index.docker.io/v1/":{"auth":"aHViOmh1Yi1wYXNzd29yZA=="},
    "127.0.0.1:5000":{"username":"local","password":"local-pass"},
    "http://plain.example:8080":{"auth":"cDpxOnI="},
    "ghcr.io":{"auth":"","identitytoken":"id-token-xyz"},
    "reg.example":{"registrytoken":"bearer-abc"},
    "empty.example":{}
  },"HttpHeaders":{"User-Agent":"x"}})");
  auto store = CredentialStore::load();
  ASSERT_TRUE(store) << store.error().message();
  for (const char* hub : {"docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"}) {
    auto c = store->get(hub);
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->username, "hub") << hub;
    EXPECT_EQ(c->password, "hub-password") << hub;
  }
  EXPECT_EQ(store->get("127.0.0.1:5000")->password, "local-pass");
  EXPECT_EQ(store->get("plain.example:8080")->password, "q:r");  // split at the first colon
  EXPECT_EQ(store->get("ghcr.io")->identity_token, "id-token-xyz");
  EXPECT_EQ(store->get("reg.example")->registry_token, "bearer-abc");
  EXPECT_TRUE(store->get("empty.example")->empty());
  EXPECT_TRUE(store->get("quay.io")->empty());
  // Secrets never reach the log.
  EXPECT_EQ(strata::log::redact("pw=hub-password tok=id-token-xyz b=bearer-abc"), "pw=*** tok=*** b=***");
  EXPECT_EQ(strata::log::redact("aHViOmh1Yi1wYXNzd29yZA=="), "***");
}

TEST_F(CredentialsTest, ExactHubKeyWinsOverAliases) {
  write_config(R"({"auths":{"docker.io":{"auth":"YTpi"},"https://index.docker.io/v1/":{"auth":"Yzpk"},
                            "registry-1.docker.io":{"auth":"ZTpm"}}})");
  auto store = CredentialStore::load();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->get("docker.io")->username, "c");
}

TEST_F(CredentialsTest, HomeIsUsedWithoutDockerConfig) {
  ::unsetenv("DOCKER_CONFIG");
  ::setenv("HOME", m_dir.c_str(), 1);
  fs::create_directories(m_dir / ".docker");
  write(m_dir / ".docker" / "config.json", R"({"auths":{"h.example":{"username":"home","password":"x"}}})");
  auto store = CredentialStore::load();
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_EQ(store->get("h.example")->username, "home");
  EXPECT_EQ(store->config().source, (m_dir / ".docker" / "config.json").string());
}

TEST_F(CredentialsTest, MissingConfigIsAnonymousButExplicitFileIsNotFound) {
  auto store = CredentialStore::load();
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_TRUE(store->get("docker.io")->empty());
  auto explicit_file = CredentialStore::load_file((m_dir / "nope.json").string());
  ASSERT_FALSE(explicit_file);
  EXPECT_EQ(explicit_file.error().kind(), ErrorKind::not_found);
}

TEST_F(CredentialsTest, MalformedConfigErrorsNameTheFile) {
  std::string file = (m_dir / "docker" / "config.json").string();
  const std::pair<const char*, const char*> cases[] = {
      {"{not json", "invalid JSON"},
      {"[]", "JSON object"},
      {R"({"auths":[]})", "\"auths\" must be an object"},
      {R"({"auths":{"r.io":{"auth":"!!!notbase64"}}})", "auths[\"r.io\"].auth is not valid base64"},
      {R"({"auths":{"r.io":{"auth":"bm9jb2xvbg=="}}})", "does not decode to user:password"},
      {R"({"auths":{"r.io":{"password":5}}})", "auths[\"r.io\"].password must be a string"},
      {R"({"credHelpers":{"gcr.io":1}})", "credHelpers[\"gcr.io\"]"},
      {R"({"credsStore":true})", "credsStore"},
  };
  for (const auto& [json, mention] : cases) {
    write_config(json);
    auto store = CredentialStore::load();
    ASSERT_FALSE(store) << json;
    EXPECT_EQ(store.error().kind(), ErrorKind::corrupt);
    EXPECT_NE(store.error().message().find(file), std::string::npos) << store.error().message();
    EXPECT_NE(store.error().message().find(mention), std::string::npos) << store.error().message();
  }
}

TEST_F(CredentialsTest, CredHelpersRunTheHelper) {
  install_helper("test");
  write_config(R"({"credHelpers":{"docker.io":"test","127.0.0.1:5000":"test","token.example":"test",
                   "unknown.example":"test"},
                   "auths":{"unknown.example":{"username":"file","password":"ignored-with-helper"}}})");
  auto store = CredentialStore::load();
  ASSERT_TRUE(store) << store.error().message();
  auto hub = store->get("registry-1.docker.io");
  ASSERT_TRUE(hub) << hub.error().message();
  EXPECT_EQ(hub->username, "hubuser");
  EXPECT_EQ(hub->password, "hub-secret-1");
  auto local = store->get("127.0.0.1:5000");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->username, "u5000");
  auto token = store->get("token.example");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->identity_token, "refresh-tok-9");
  EXPECT_TRUE(token->username.empty());
  // "not found in native keychain": anonymous, and no fallback past an explicit credHelpers.
  auto none = store->get("unknown.example");
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->empty());
  // Answers are cached: asking again does not rerun the helper.
  EXPECT_EQ(store->get("docker.io")->username, "hubuser");
  EXPECT_EQ(asked(), "https://index.docker.io/v1/\n127.0.0.1:5000\ntoken.example\nunknown.example\n");
  EXPECT_EQ(strata::log::redact("hub-secret-1 refresh-tok-9"), "*** ***");
}

TEST_F(CredentialsTest, CredsStoreFallsBackToAuths) {
  install_helper("test");
  write_config(R"({"credsStore":"test","auths":{"file.example":{"username":"f","password":"from-file"}}})");
  auto store = CredentialStore::load();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->get("127.0.0.1:5000")->username, "u5000");
  EXPECT_EQ(store->get("file.example")->password, "from-file");
}

TEST_F(CredentialsTest, MissingStoreBinaryFallsBackButMissingHelperFails) {
  write_config(R"({"credsStore":"desktop-absent","credHelpers":{"gcr.io":"gcloud-absent"},
                   "auths":{"file.example":{"username":"f","password":"from-file-2"}}})");
  auto store = CredentialStore::load();
  ASSERT_TRUE(store);
  auto fallback = store->get("file.example");
  ASSERT_TRUE(fallback) << fallback.error().message();
  EXPECT_EQ(fallback->password, "from-file-2");
  auto missing = store->get("gcr.io");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::not_found);
  EXPECT_NE(missing.error().message().find("docker-credential-gcloud-absent not found in PATH"), std::string::npos)
      << missing.error().message();
}

TEST_F(CredentialsTest, HelperFailuresNameTheHelperButNotItsOutput) {
  install_helper("test");
  auto broken = run_credential_helper("test", "broken.example", std::chrono::seconds(10));
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().kind(), ErrorKind::unauthorized);
  EXPECT_NE(broken.error().message().find("docker-credential-test"), std::string::npos);
  EXPECT_NE(broken.error().message().find("exit status 3"), std::string::npos);
  EXPECT_NE(broken.error().message().find("helper exploded"), std::string::npos);
  EXPECT_EQ(broken.error().message().find("leaked-secret-on-stdout"), std::string::npos);

  auto garbage = run_credential_helper("test", "garbage.example", std::chrono::seconds(10));
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().kind(), ErrorKind::corrupt);
  EXPECT_EQ(garbage.error().message().find("not json at all"), std::string::npos);

  auto bad_name = run_credential_helper("../evil", "x", std::chrono::seconds(1));
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().kind(), ErrorKind::invalid_argument);
}

TEST_F(CredentialsTest, HungHelperIsKilledAtTheDeadline) {
  install_helper("test");
  auto start = std::chrono::steady_clock::now();
  auto slow = run_credential_helper("test", "slow.example", std::chrono::milliseconds(200));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().kind(), ErrorKind::timeout);
  EXPECT_LT(took, std::chrono::seconds(3));
}

}  // namespace
