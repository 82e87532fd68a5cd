// The SigV4 signer against AWS's published aws-sig-v4-test-suite (credentials
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z,
// us-east-1, service "service", host example.amazonaws.com). Expected values
// are the suite's .creq/.sts/.authz files.
#include <gtest/gtest.h>

#include "context/sigv4.hpp"

namespace strata::context {
namespace {

constexpr const char *k_empty_hash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const AwsCredentials k_creds{"AKIDEXAMPLE",
                             "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const SigV4Scope k_scope{"20150830T123600Z", "us-east-1", "service"};

SigV4Request suite_request(std::string method, std::string path = "/") {
  SigV4Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.headers = {{"Host", "example.amazonaws.com"},
               {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_hash = k_empty_hash;
  return r;
}

std::string authz(const std::string &signed_headers,
                  const std::string &signature) {
  return "AWS4-HMAC-SHA256 "
         "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

TEST(SigV4, GetVanillaCanonicalRequestStringToSignAndAuthorization) {
  auto r = suite_request("GET");
  EXPECT_EQ(sigv4_canonical_request(r),
            "GET\n/"
            "\n\nhost:example.amazonaws.com\nx-amz-date:"
            "20150830T123600Z\n\nhost;x-amz-date\n" +
                std::string(k_empty_hash));
  EXPECT_EQ(sigv4_string_to_sign(r, k_scope),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
            "aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(
      sigv4_authorization(r, k_scope, k_creds),
      authz(
          "host;x-amz-date",
          "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST(SigV4, GetVanillaQueryOrderKeyCase) {
  auto r = suite_request("GET");
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  EXPECT_EQ(sigv4_string_to_sign(r, k_scope),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
            "aws4_request\n"
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  EXPECT_EQ(
      sigv4_authorization(r, k_scope, k_creds),
      authz(
          "host;x-amz-date",
          "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
}

TEST(SigV4, PostVanilla) {
  EXPECT_EQ(
      sigv4_authorization(suite_request("POST"), k_scope, k_creds),
      authz(
          "host;x-amz-date",
          "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"));
}

TEST(SigV4, PostHeaderValueCase) {
  auto r = suite_request("POST");
  r.headers.emplace_back("My-Header1", "VALUE1");
  EXPECT_EQ(
      sigv4_authorization(r, k_scope, k_creds),
      authz(
          "host;my-header1;x-amz-date",
          "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"));
}

TEST(SigV4, GetUnreservedPath) {
  auto r = suite_request(
      "GET",
      "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(
      sigv4_authorization(r, k_scope, k_creds),
      authz(
          "host;x-amz-date",
          "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"));
}

TEST(SigV4, GetHeaderValueTrimCollapsesSpaces) {
  auto r = suite_request("GET");
  r.headers.emplace_back("My-Header1", " value1");
  r.headers.emplace_back("My-Header2", "\"a   b   c\"");
  EXPECT_EQ(
      sigv4_authorization(r, k_scope, k_creds),
      authz(
          "host;my-header1;my-header2;x-amz-date",
          "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
}

TEST(SigV4, GetHeaderKeyDuplicateJoinsValuesInOrder) {
  auto r = suite_request("GET");
  r.headers.emplace_back("My-Header1", "value2");
  r.headers.emplace_back("My-Header1", "value2");
  r.headers.emplace_back("My-Header1", "value1");
  EXPECT_EQ(
      sigv4_authorization(r, k_scope, k_creds),
      authz(
          "host;my-header1;x-amz-date",
          "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"));
}

TEST(SigV4, SecretNeverAppearsInTheOutput) {
  auto r = suite_request("GET");
  std::string all = sigv4_canonical_request(r) +
                    sigv4_string_to_sign(r, k_scope) +
                    sigv4_authorization(r, k_scope, k_creds);
  EXPECT_EQ(all.find(k_creds.secret_access_key), std::string::npos);
}

TEST(SigV4, S3PathEncodesEachSegmentOnce) {
  EXPECT_EQ(s3_path("/bucket/dir/key name+1.tar.gz"),
            "/bucket/dir/key%20name%2B1.tar.gz");
  EXPECT_EQ(s3_path("bucket/a~b"), "/bucket/a~b");
}

TEST(SigV4, AmzDateShape) {
  std::string d = amz_date_now();
  ASSERT_EQ(d.size(), 16u);
  EXPECT_EQ(d[8], 'T');
  EXPECT_EQ(d.back(), 'Z');
}

} // namespace
} // namespace strata::context
