// OAuth2 access tokens for Google Cloud Storage from a service account key (the
// JSON file GOOGLE_APPLICATION_CREDENTIALS names, else gcloud's
// application_default_credentials.json):
//
//   1. JWT = base64url(header) "." base64url(claims) "." base64url(RS256
//   signature), with header
//      {"alg":"RS256","typ":"JWT","kid":private_key_id} and claims {iss:
//      client_email, scope, aud: token_uri, iat: now, exp: now + 3600};
//   2. POST token_uri, form
//   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT;
//   3. the answer's access_token is the Bearer token.
// An "authorized_user" file (gcloud auth application-default login) is
// exchanged with grant_type=refresh_token instead. The GCE metadata server is
// not consulted. Secrets (private key, tokens) are registered with
// log::add_secret and never put in messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "context/context_spec.hpp"
#include "transport/transport.hpp"
#include "util/result.hpp"

namespace strata::context {

inline constexpr const char *k_gcs_read_scope =
    "https://www.googleapis.com/auth/devstorage.read_only";

struct ServiceAccount {
  std::string type; // "service_account" or "authorized_user"
  std::string client_email;
  std::string private_key; // PEM
  std::string private_key_id;
  std::string token_uri = "https://oauth2.googleapis.com/token";
  // authorized_user
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
};

// Errors: corrupt naming the file when the JSON or a required field is missing.
Result<ServiceAccount> parse_service_account(const std::string &json,
                                             const std::string &file);

// The signed JWT assertion for `now` (seconds since the epoch). Errors:
// invalid_argument for a key OpenSSL cannot read.
Result<std::string> make_jwt_assertion(const ServiceAccount &account,
                                       std::string_view scope,
                                       std::int64_t now);

// The credentials file to use: GOOGLE_APPLICATION_CREDENTIALS, else gcloud's
// well-known file if it exists; nullopt when neither.
std::optional<std::string> google_credentials_file(const EnvLookup &env);

// Exchanges the credentials for an access token through `transport`. Errors:
// unauthorized when the token endpoint refuses them (its error text quoted),
// network errors.
Result<std::string> fetch_access_token(transport::Transport &transport,
                                       const ServiceAccount &account,
                                       const transport::TlsConfig &tls);

} // namespace strata::context
