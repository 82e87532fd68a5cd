// A minimal plain-HTTP/1.0 client over 127.0.0.1 for tests that need to poke a server directly
// (the token server's endpoints, a plain-HTTP registry's /v2/). Not for TLS; not for production:
// the whole response is read into memory and Connection: close is always sent.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace strata::itest {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; repeated headers joined by ", "
  std::string body;
};

// Sends METHOD path with the given headers (and a Content-Length for a non-empty body) to
// 127.0.0.1:port. Errors: network (connect/reset), corrupt (not an HTTP response). Any status,
// including 4xx/5xx, is a successful result.
Result<HttpResponse> http_request(int port, const std::string& method, const std::string& path,
                                  const std::vector<std::pair<std::string, std::string>>& headers = {},
                                  const std::string& body = {});

// "Basic base64(user:password)".
std::string basic_auth(const std::string& user, const std::string& password);

}  // namespace strata::itest
