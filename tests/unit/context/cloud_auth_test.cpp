// Azure SharedKey string-to-sign layout, AWS shared-file parsing, and the GCS
// JWT assertion (signed with a key made here and verified with its public
// half).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "auth/docker_config.hpp"
#include "context/aws_credentials.hpp"
#include "context/azure_shared_key.hpp"
#include "context/crypto.hpp"
#include "context/google_auth.hpp"

namespace strata::context {
namespace {

TEST(AzureSharedKey, StringToSignForAPathStyleGetWithQuery) {
  AzureRequest r;
  r.method = "GET";
  r.path = "/acct/builds/app/ctx.tar.gz";
  r.query = {{"Comp", "list"}, {"restype", "container"}};
  r.headers = {{"x-ms-version", "2021-08-06"},
               {"x-ms-date", "Sat, 28 Nov 2026 12:00:00 GMT"},
               {"Content-Length", "0"},
               {"Range", "bytes=0-9"}};
  EXPECT_EQ(azure_string_to_sign(r, "acct"),
            "GET\n\n\n\n\n\n\n\n\n\n\nbytes=0-9\n"
            "x-ms-date:Sat, 28 Nov 2026 12:00:00 GMT\nx-ms-version:2021-08-06\n"
            "/acct/acct/builds/app/ctx.tar.gz\ncomp:list\nrestype:container");
  auto auth = azure_shared_key_authorization(r, "acct", "c2VjcmV0LWtleQ==");
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->rfind("SharedKey acct:", 0), 0u);
  EXPECT_FALSE(azure_shared_key_authorization(r, "acct", "not base64!"));
}

TEST(AwsSharedFile, ProfilesAndValues) {
  std::string text =
      "# comment\n[default]\naws_access_key_id = "
      "A\n\n[ci]\naws_access_key_id=B\n aws_secret_access_key = S \n";
  EXPECT_EQ(ini_value(text, "default", "aws_access_key_id"), "A");
  EXPECT_EQ(ini_value(text, "ci", "aws_access_key_id"), "B");
  EXPECT_EQ(ini_value(text, "ci", "aws_secret_access_key"), "S");
  EXPECT_FALSE(ini_value(text, "default", "aws_secret_access_key"));
  EXPECT_TRUE(ini_has_section(text, "ci"));
  EXPECT_FALSE(ini_has_section(text, "prod"));
}

TEST(AwsCredentials, EnvironmentWinsAndRegionDefaults) {
  EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_ACCESS_KEY_ID")
      return "AKID";
    if (name == "AWS_SECRET_ACCESS_KEY")
      return "SECRET";
    if (name == "HOME")
      return "/nonexistent";
    return std::nullopt;
  };
  auto c = aws_credentials(env);
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->access_key_id, "AKID");
  EXPECT_EQ(aws_region(env), "us-east-1");
  EnvLookup missing_profile =
      [](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_PROFILE")
      return "ci";
    if (name == "HOME")
      return "/nonexistent";
    return std::nullopt;
  };
  EXPECT_FALSE(aws_credentials(missing_profile));
}

std::string b64url_decode(std::string s) {
  for (char &c : s)
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4)
    s += '=';
  auto r = auth::base64_decode(s);
  return r ? *r : "";
}

TEST(GoogleJwt, AssertionIsAVerifiableRs256Jwt) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048),
                                                          &EVP_PKEY_free);
  ASSERT_TRUE(key);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()),
                                                &BIO_free);
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0,
                                     nullptr, nullptr),
            1);
  char *data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  nlohmann::json file = {
      {"type", "service_account"},
      {"client_email", "sa@p.iam.gserviceaccount.com"},
      {"private_key", std::string(data, static_cast<std::size_t>(len))},
      {"private_key_id", "kid1"},
      {"token_uri", "http://127.0.0.1:1/token"}};
  auto account = parse_service_account(file.dump(), "sa.json");
  ASSERT_TRUE(account) << account.error().message();
  auto jwt = make_jwt_assertion(*account, k_gcs_read_scope, 1'700'000'000);
  ASSERT_TRUE(jwt) << jwt.error().message();
  auto first = jwt->find('.'), second = jwt->rfind('.');
  ASSERT_NE(first, second);
  auto header = nlohmann::json::parse(b64url_decode(jwt->substr(0, first)));
  auto claims = nlohmann::json::parse(
      b64url_decode(jwt->substr(first + 1, second - first - 1)));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["kid"], "kid1");
  EXPECT_EQ(claims["iss"], "sa@p.iam.gserviceaccount.com");
  EXPECT_EQ(claims["aud"], "http://127.0.0.1:1/token");
  EXPECT_EQ(claims["scope"], k_gcs_read_scope);
  EXPECT_EQ(claims["exp"].get<long>() - claims["iat"].get<long>(), 3600);

  std::string signed_part = jwt->substr(0, second);
  std::string sig = b64url_decode(jwt->substr(second + 1));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                                 key.get()),
            1);
  EXPECT_EQ(EVP_DigestVerify(
                ctx.get(), reinterpret_cast<const unsigned char *>(sig.data()),
                sig.size(),
                reinterpret_cast<const unsigned char *>(signed_part.data()),
                signed_part.size()),
            1);

  EXPECT_FALSE(
      parse_service_account("{\"type\":\"service_account\"}", "x.json"));
  EXPECT_FALSE(parse_service_account("not json", "x.json"));
}

} // namespace
} // namespace strata::context
