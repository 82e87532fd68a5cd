// The pure half of the registry token flow (Docker's token spec and its OAuth2 variant): building
// the token request and parsing the token server's answer. The HTTP exchange itself lives in
// registry/authenticator.cpp (auth/ sits beside transport/, so it must not include it).
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "auth/www_authenticate.hpp"
#include "util/result.hpp"

namespace strata::auth {

struct Token {
  std::string value;          // the bearer token ("token", else "access_token")
  std::string refresh_token;  // returned by OAuth2 servers; empty otherwise
  std::chrono::system_clock::time_point expires_at;
};

// "repository:library/busybox:pull" / "repository:a/b:pull,push".
std::string repository_scope(std::string_view repository, std::string_view actions);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);
std::string base64_encode(std::string_view data);

// "Basic base64(user:pass)".
std::string basic_authorization(std::string_view username, std::string_view password);

// GET URL for a Bearer challenge: realm?service=S&scope=A&scope=B (each scope its own parameter,
// as Docker sends them). Errors: invalid_argument when the realm is missing or not http(s).
Result<std::string> token_url(const Challenge& bearer, const std::vector<std::string>& scopes);

// application/x-www-form-urlencoded body of the OAuth2 POST to the realm. With a refresh token:
// grant_type=refresh_token; otherwise grant_type=password with username and password.
std::string oauth_refresh_form(const Challenge& bearer, const std::vector<std::string>& scopes,
                               std::string_view refresh_token, std::string_view client_id);
std::string oauth_password_form(const Challenge& bearer, const std::vector<std::string>& scopes,
                                std::string_view username, std::string_view password, std::string_view client_id);

// Parses {"token"|"access_token", "expires_in", "issued_at", "refresh_token"}. expires_in
// below 60 s (or absent) counts as 60 s, as the spec says. issued_at is ignored: clocks differ,
// and `now` is when we got the answer. Errors: corrupt (not JSON, no token).
Result<Token> parse_token_response(std::string_view body, std::chrono::system_clock::time_point now);

}  // namespace strata::auth
