// Docker's client configuration file (config.json): the parts that concern registry
// credentials. Other keys (proxies, HttpHeaders, ...) are ignored.
//
//   {"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"},
//              "127.0.0.1:5000": {"username": "u", "password": "p"},
//              "ghcr.io": {"identitytoken": "..."}},
//    "credHelpers": {"gcr.io": "gcloud"}, "credsStore": "desktop"}
//
// Keys may be written in any form docker accepts ("http://host:port/v2/", "host", the Hub's
// legacy URL); they are matched through registry_key(). Pure code; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace strata::auth {

struct AuthEntry {
  std::string username;
  std::string password;
  std::string identity_token;
  std::string registry_token;
};

struct DockerConfig {
  std::string source;                               // path or name, for messages
  std::map<std::string, AuthEntry> auths;           // by registry_key()
  std::map<std::string, std::string> cred_helpers;  // registry_key() → helper suffix
  std::string creds_store;                          // default helper suffix, may be empty

  // Parses config.json text. Errors: corrupt, naming `source` and the offending key (never a
  // secret value). Registers every secret with log::add_secret().
  static Result<DockerConfig> parse(std::string_view text, std::string_view source);

  // The entry for a registry, if any.
  const AuthEntry* find_auth(std::string_view registry) const;
  // The helper configured for this registry in credHelpers ("" if none).
  std::string helper_for(std::string_view registry) const;
};

// Canonical registry key: scheme and any path removed, lowercased; the Docker Hub aliases
// (docker.io, index.docker.io, registry-1.docker.io, https://index.docker.io/v1/) → "docker.io".
std::string registry_key(std::string_view server);

// The server URL a credential helper is asked about: Docker Hub as
// "https://index.docker.io/v1/" (what `docker login` stores), other registries by host[:port].
std::string helper_server_url(std::string_view registry);

// Standard base64; padding optional. Errors: corrupt (the text itself is never quoted).
Result<std::string> base64_decode(std::string_view text);

}  // namespace strata::auth
