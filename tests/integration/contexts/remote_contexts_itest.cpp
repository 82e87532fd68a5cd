// Remote archive contexts against real servers on 127.0.0.1: s3rver (S3),
// azurite (Azure Blob, which checks SharedKey and SAS signatures), a fake of
// GCS's token endpoint + JSON API that verifies the service account's RS256
// JWT, and a plain HTTPS server with the test CA.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "context_fixture.hpp"

namespace strata::itest {
namespace {

// npm packages live in a project-local prefix (scripts/install-deps.sh
// --tests).
std::string npm_bin(const std::string &name) {
  const char *prefix = std::getenv("STRATA_NPM_PREFIX");
  std::string path =
      std::string(prefix && *prefix ? prefix : "/opt/strata-npm") +
      "/node_modules/.bin/" + name;
  if (::access(path.c_str(), X_OK) == 0)
    return path;
  return find_binary(name);
}

#define SKIP_UNLESS_NPM(name)                                                  \
  if (npm_bin(name).empty())                                                   \
  GTEST_SKIP() << name << " is not installed (scripts/install-deps.sh --tests)"

class RemoteContexts : public ContextTest {
protected:
  std::string tarball(const std::string &hello) {
    std::string src = make_source("src-" + std::to_string(++m_sources), hello);
    std::string out = file("ctx-" + std::to_string(m_sources) + ".tar.gz");
    sh("tar -C '" + src + "' -czf '" + out + "' .");
    return out;
  }
  int m_sources = 0;
};

TEST_F(RemoteContexts, S3WithEnvironmentAndSharedCredentials) {
  SKIP_UNLESS("node");
  SKIP_UNLESS_NPM("s3rver");
  int port = ASSERT_OK(free_port());
  ASSERT_EQ(::mkdir(file("s3").c_str(), 0755), 0);
  auto server = ASSERT_OK(
      Process::start({.argv = {npm_bin("s3rver"), "-d", file("s3"), "-a",
                               "127.0.0.1", "-p", std::to_string(port),
                               "--configure-bucket", "builds", "--silent"}}));
  ASSERT_OK(wait_for_port(port, std::chrono::seconds(30), &server));
  std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  sh("curl -sf -X PUT --data-binary @'" + tarball("from s3\n") + "' '" +
     endpoint + "/builds/app/ctx.tar.gz'");

  Env env{{"S3_ENDPOINT", endpoint},           {"S3_FORCE_PATH_STYLE", "true"},
          {"AWS_REGION", "eu-west-1"},         {"AWS_ACCESS_KEY_ID", "S3RVER"},
          {"AWS_SECRET_ACCESS_KEY", "S3RVER"}, {"HOME", file("")}};
  auto r = build("s3://builds/app/ctx.tar.gz", {}, env);
  expect_built(r, "from s3\n");
  EXPECT_NE(r.err.find("downloading context s3://builds/app/ctx.tar.gz"),
            std::string::npos)
      << r.err;

  // The shared credentials file and AWS_PROFILE.
  ASSERT_EQ(::mkdir(file(".aws").c_str(), 0700), 0);
  ASSERT_TRUE(write_file(
      file(".aws/credentials"),
      "[default]\naws_access_key_id = NOPE\naws_secret_access_key = NOPE\n\n"
      "[ci]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n"));
  Env file_env{
      {"S3_ENDPOINT", endpoint}, {"AWS_PROFILE", "ci"}, {"HOME", file("")}};
  expect_built(build("s3://builds/app/ctx.tar.gz", {}, file_env), "from s3\n");
  Env bad_profile{
      {"S3_ENDPOINT", endpoint}, {"AWS_PROFILE", "nobody"}, {"HOME", file("")}};
  auto missing_profile = build("s3://builds/app/ctx.tar.gz", {}, bad_profile);
  EXPECT_EQ(missing_profile.exit_code, 1);
  EXPECT_NE(missing_profile.err.find("nobody"), std::string::npos)
      << missing_profile.err;

  auto missing = build("s3://builds/app/missing.tar.gz", {}, env);
  EXPECT_EQ(missing.exit_code, 1) << missing.describe();
  EXPECT_NE(missing.err.find("context s3://builds/app/missing.tar.gz"),
            std::string::npos)
      << missing.err;
  EXPECT_NE(missing.err.find("no such object"), std::string::npos)
      << missing.err;
  expect_no_leftovers();
}

TEST_F(RemoteContexts, AzureBlobSharedKeyAndSas) {
  SKIP_UNLESS("node");
  SKIP_UNLESS_NPM("azurite-blob");
  int port = ASSERT_OK(free_port());
  std::string account = "strataci";
  std::string key =
      "c3RyYXRhLWF6dXJpdGUta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5YWJjZGVm"; // base64,
                                                                      // test
                                                                      // only
  ASSERT_EQ(::mkdir(file("azurite").c_str(), 0755), 0);
  auto server = ASSERT_OK(
      Process::start({.argv = {npm_bin("azurite-blob"), "--blobHost",
                               "127.0.0.1", "--blobPort", std::to_string(port),
                               "--location", file("azurite"),
                               "--skipApiVersionCheck", "--loose", "--silent"},
                      .env = {{"AZURITE_ACCOUNTS", account + ":" + key}}}));
  ASSERT_OK(wait_for_port(port, std::chrono::seconds(60), &server));
  std::string endpoint =
      "http://127.0.0.1:" + std::to_string(port) + "/" + account;
  sh("python3 '" + python_script() + "' azure-put --endpoint '" + endpoint +
     "' --account " + account + " --key " + key +
     " --container builds --blob app/ctx.tar.gz --file '" +
     tarball("from azure\n") + "'");

  std::string url =
      "https://" + account + ".blob.core.windows.net/builds/app/ctx.tar.gz";
  Env env{{"AZURE_STORAGE_ACCESS_KEY", key},
          {"AZURE_STORAGE_BLOB_ENDPOINT", endpoint}};
  auto r = build(url, {}, env);
  expect_built(r, "from azure\n");
  EXPECT_EQ(r.err.find(key), std::string::npos) << "the key was printed";

  // A SAS token in the URL, no key.
  std::string sas = sh("python3 '" + python_script() +
                       "' azure-sas --account " + account + " --key " + key)
                        .out;
  while (!sas.empty() && sas.back() == '\n')
    sas.pop_back();
  auto with_sas =
      build(url + "?" + sas, {}, {{"AZURE_STORAGE_BLOB_ENDPOINT", endpoint}});
  expect_built(with_sas, "from azure\n");
  std::string sig = sas.substr(sas.find("sig=") + 4);
  EXPECT_EQ(with_sas.err.find(sig), std::string::npos)
      << "the SAS signature was printed";

  // Wrong key: azurite refuses the signature.
  std::string wrong =
      "d3JvbmctYXp1cml0ZS1rZXktZm9yLXRlc3RzLTAxMjM0NTY3ODlhYmNkZWY=";
  auto bad = build(url, {},
                   {{"AZURE_STORAGE_ACCESS_KEY", wrong},
                    {"AZURE_STORAGE_BLOB_ENDPOINT", endpoint}});
  EXPECT_EQ(bad.exit_code, 1) << bad.describe();
  EXPECT_NE(bad.err.find("context " + url), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("check the credentials"), std::string::npos)
      << bad.err;

  auto missing =
      build("https://" + account + ".blob.core.windows.net/builds/nope.tar.gz",
            {}, env);
  EXPECT_EQ(missing.exit_code, 1) << missing.describe();
  EXPECT_NE(missing.err.find("no such object"), std::string::npos)
      << missing.err;
}

TEST_F(RemoteContexts, GcsServiceAccountJwtAgainstAFakeApi) {
  // A service account key and its public half.
  sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '" +
     file("sa.key") +
     "' 2>/dev/null && "
     "openssl pkey -in '" +
     file("sa.key") + "' -pubout -out '" + file("sa.pub") + "'");
  std::string email = "builder@strata-test.iam.gserviceaccount.com";
  ASSERT_EQ(::mkdir(file("gcs").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(file("gcs/ci-bucket").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(file("gcs/ci-bucket/app").c_str(), 0755), 0);
  sh("cp '" + tarball("from gcs\n") + "' '" +
     file("gcs/ci-bucket/context.tar.gz") + "' && cp '" +
     tarball("gcs path\n") + "' '" + file("gcs/ci-bucket/app/ctx.tgz") + "'");
  std::unique_ptr<Process> server;
  int port = start_py_server({"gcs", "--dir", file("gcs"), "--pubkey",
                              file("sa.pub"), "--email", email},
                             server);
  ASSERT_NE(port, 0);
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto key_pem = ASSERT_OK(read_file(file("sa.key")));
  nlohmann::json sa = {
      {"type", "service_account"}, {"project_id", "strata-test"},
      {"private_key_id", "k1"},    {"private_key", key_pem},
      {"client_email", email},     {"token_uri", base + "/token"}};
  ASSERT_TRUE(write_file(file("sa.json"), sa.dump()));
  Env env{{"GOOGLE_APPLICATION_CREDENTIALS", file("sa.json")},
          {"STORAGE_EMULATOR_HOST", base}};

  expect_built(build("gs://ci-bucket", {}, env), "from gcs\n");
  auto r = build("gs://ci-bucket/app/ctx.tgz", {}, env);
  expect_built(r, "gcs path\n");
  EXPECT_EQ(r.err.find("BEGIN PRIVATE KEY"), std::string::npos);

  // A key the fake does not know: the token endpoint refuses the JWT.
  sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '" +
     file("other.key") + "' 2>/dev/null");
  sa["private_key"] = ASSERT_OK(read_file(file("other.key")));
  ASSERT_TRUE(write_file(file("other.json"), sa.dump()));
  auto bad = build("gs://ci-bucket", {},
                   {{"GOOGLE_APPLICATION_CREDENTIALS", file("other.json")},
                    {"STORAGE_EMULATOR_HOST", base}});
  EXPECT_EQ(bad.exit_code, 1) << bad.describe();
  EXPECT_NE(bad.err.find("context gs://ci-bucket"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("bad signature"), std::string::npos) << bad.err;

  // No credentials: the fake answers 401.
  auto anonymous = build("gs://ci-bucket", {},
                         {{"STORAGE_EMULATOR_HOST", base}, {"HOME", file("")}});
  EXPECT_EQ(anonymous.exit_code, 1) << anonymous.describe();
  EXPECT_NE(anonymous.err.find("check the credentials"), std::string::npos)
      << anonymous.err;

  auto missing = build("gs://ci-bucket/nope.tar.gz", {}, env);
  EXPECT_EQ(missing.exit_code, 1) << missing.describe();
  EXPECT_NE(missing.err.find("no such object"), std::string::npos)
      << missing.err;
  auto stats = ASSERT_OK(run({"curl", "-sf", base + "/stats"}));
  EXPECT_NE(stats.out.find("\"downloads\": 2"), std::string::npos) << stats.out;
}

TEST_F(RemoteContexts, HttpsTarballWithTheTestCa) {
  const TestCA *ca = ASSERT_OK(TestCA::get());
  ASSERT_EQ(::mkdir(file("www").c_str(), 0755), 0);
  sh("cp '" + tarball("over https\n") + "' '" + file("www/ctx.tar.gz") + "'");
  std::unique_ptr<Process> server;
  int port = start_py_server({"https", "--dir", file("www"), "--cert",
                              ca->server_cert(), "--key", ca->server_key()},
                             server);
  ASSERT_NE(port, 0);
  std::string url = "https://127.0.0.1:" + std::to_string(port) + "/ctx.tar.gz";
  expect_built(build(url, {}, {{"SSL_CERT_FILE", ca->ca_cert()}}),
               "over https\n");

  auto untrusted =
      build(url, {}, {{"SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"}});
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.describe();
  EXPECT_NE(untrusted.err.find("context " + url), std::string::npos)
      << untrusted.err;

  auto missing =
      build("https://127.0.0.1:" + std::to_string(port) + "/nope.tgz", {},
            {{"SSL_CERT_FILE", ca->ca_cert()}});
  EXPECT_EQ(missing.exit_code, 1) << missing.describe();
  EXPECT_NE(missing.err.find("no such object"), std::string::npos)
      << missing.err;
  expect_no_leftovers();
}

} // namespace
} // namespace strata::itest
