// WWW-Authenticate parsing (RFC 9110 §11.6.1), as registries send it:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//   Basic realm="Registry Realm"
//   Bearer realm="...",error="insufficient_scope",scope="repository:a:pull,push"
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::auth {

struct Challenge {
  std::string scheme;                         // lowercased: "basic", "bearer"
  std::map<std::string, std::string> params;  // names lowercased, values unquoted and unescaped
  std::string token68;                        // the "Negotiate abc==" form; empty otherwise

  // The parameter's value, or "" when absent.
  std::string param(std::string_view name) const;
};

// Parses one header value holding one or more comma-separated challenges. Scheme and parameter
// names are case-insensitive; values are tokens or quoted strings with backslash escapes.
// Errors (invalid_argument) for malformed text: unterminated quoted string, a parameter without a
// scheme, junk where a parameter or comma is expected, duplicate parameter in one challenge.
Result<std::vector<Challenge>> parse_www_authenticate(std::string_view header);

// Parses each value (the header may be sent several times) and concatenates the challenges,
// skipping values that do not parse.
std::vector<Challenge> parse_www_authenticate_all(const std::vector<std::string>& headers);

// The first challenge of that scheme (case-insensitive), or nullptr.
const Challenge* find_challenge(const std::vector<Challenge>& challenges, std::string_view scheme);

}  // namespace strata::auth
