// Azure Storage SharedKey authorization (Blob service, x-ms-version 2015-02-21
// and later):
//
//   StringToSign = VERB \n Content-Encoding \n Content-Language \n
//   Content-Length \n
//                  Content-MD5 \n Content-Type \n Date \n If-Modified-Since \n
//                  If-Match \n If-None-Match \n If-Unmodified-Since \n Range \n
//                  CanonicalizedHeaders CanonicalizedResource
//   CanonicalizedHeaders  = every x-ms-* header, name lower-cased, sorted,
//   "name:value\n" CanonicalizedResource = "/" ACCOUNT PATH, then
//   "\nname:value" per query parameter
//                           (names lower-cased and sorted, values decoded)
//   Authorization = "SharedKey ACCOUNT:" base64(HMAC-SHA256(base64decode(KEY),
//   StringToSign))
//
// Content-Length is empty when zero. Against a path-style endpoint (azurite:
// http://127.0.0.1:P/ACCOUNT/...) PATH itself starts with /ACCOUNT, so the
// account appears twice, as the emulator expects. Thread safety: pure
// functions. The key never appears in any returned string.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace strata::context {

struct AzureRequest {
  std::string method = "GET";
  std::string path; // as sent, percent-encoded
  std::vector<std::pair<std::string, std::string>> query; // decoded
  std::vector<std::pair<std::string, std::string>>
      headers; // standard and x-ms-* headers
};

std::string azure_string_to_sign(const AzureRequest &request,
                                 std::string_view account);
// Errors: invalid_argument when `base64_key` is not base64 (the key is not
// quoted).
Result<std::string> azure_shared_key_authorization(const AzureRequest &request,
                                                   std::string_view account,
                                                   std::string_view base64_key);
// RFC 1123 date of now, for x-ms-date.
std::string http_date_now();

} // namespace strata::context
