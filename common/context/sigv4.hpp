// AWS Signature Version 4 (header form), as S3 and every AWS API check it:
//
//   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n
//   CanonicalHeaders \n
//                      SignedHeaders \n PayloadHash
//   StringToSign     = "AWS4-HMAC-SHA256" \n AMZDATE \n
//   DATE/REGION/SERVICE/aws4_request \n
//                      hex(sha256(CanonicalRequest))
//   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, DATE), REGION),
//   SERVICE), "aws4_request") Signature        = hex(HMAC(SigningKey,
//   StringToSign))
//
// Canonical headers are lower-cased names sorted, values trimmed with inner
// runs of spaces collapsed, repeated headers joined with ","; the query is
// sorted by encoded name then value, both percent-encoded (RFC 3986 unreserved
// kept). The URI path is used as the caller encoded it (S3 wants each key
// segment encoded once, '/' kept: see s3_path()).
//
// Checked against AWS's published aws-sig-v4-test-suite
// (tests/unit/context/sigv4_test.cpp). Thread safety: pure functions. The
// secret never appears in any returned string.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::context {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token; // "" unless temporary credentials
};

struct SigV4Request {
  std::string method = "GET";
  std::string path = "/"; // already URI-encoded
  std::vector<std::pair<std::string, std::string>>
      query; // raw (unencoded) names and values
  std::vector<std::pair<std::string, std::string>>
      headers;              // must include Host and X-Amz-Date
  std::string payload_hash; // hex sha256, or "UNSIGNED-PAYLOAD"
};

struct SigV4Scope {
  std::string amz_date; // "20150830T123600Z"
  std::string region;
  std::string service;
};

std::string sigv4_canonical_request(const SigV4Request &request);
std::string sigv4_string_to_sign(const SigV4Request &request,
                                 const SigV4Scope &scope);
std::string sigv4_signature(const SigV4Request &request,
                            const SigV4Scope &scope, std::string_view secret);
// The Authorization header value.
std::string sigv4_authorization(const SigV4Request &request,
                                const SigV4Scope &scope,
                                const AwsCredentials &creds);

// "/bucket/dir/key name" → "/bucket/dir/key%20name": each segment encoded, '/'
// kept.
std::string s3_path(std::string_view raw_path);
// "YYYYMMDDTHHMMSSZ" of the current UTC time.
std::string amz_date_now();

} // namespace strata::context
