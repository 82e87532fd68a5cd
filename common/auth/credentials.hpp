// Registry credentials as Docker (and kaniko) find them: $DOCKER_CONFIG/config.json, else
// $HOME/.docker/config.json (kaniko's /kaniko/.docker comes in through DOCKER_CONFIG, which the
// executor sets). For a registry host the lookup is, as in docker/cli:
//   1. credHelpers[host]  → `docker-credential-<name> get`; "not found" means anonymous;
//   2. credsStore         → the same protocol; when it has nothing for the host, or its binary is
//                           not installed (a desktop config copied into CI), the plain `auths`
//                           entry is used instead (with a warning for the missing binary);
//   3. auths[host]        → "auth" (base64 user:pass) or username/password, identitytoken,
//                           registrytoken.
// Hosts are compared in canonical form (see docker_config.hpp): scheme and path stripped,
// lowercased, and the Docker Hub aliases docker.io, index.docker.io, registry-1.docker.io and
// https://index.docker.io/v1/ all being one registry.
//
// Every secret read from the file or a helper is registered with log::add_secret().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "auth/docker_config.hpp"
#include "util/result.hpp"

namespace strata::auth {

struct Credentials {
  std::string username;
  std::string password;
  // An OAuth2 refresh token (config.json "identitytoken", or a helper's Secret when its
  // Username is "<token>"): use it with grant_type=refresh_token at the token endpoint.
  std::string identity_token;
  // A bearer token to send to the registry as is ("registrytoken").
  std::string registry_token;

  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
  friend bool operator==(const Credentials&, const Credentials&) = default;
};

// Loads config.json once. Copies share one cache of helper answers, so a helper runs at most
// once per registry and process. Thread-safe: get() may be called concurrently.
class CredentialStore {
 public:
  // An empty store (anonymous everywhere).
  CredentialStore();

  // From the environment: $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json. A missing
  // file is an empty store. Errors: corrupt (bad JSON, bad base64) or io, naming the file.
  static Result<CredentialStore> load();
  // From this file. Errors: not_found if it does not exist; otherwise as load().
  static Result<CredentialStore> load_file(const std::string& path);
  // From JSON text; `source` names it in errors.
  static Result<CredentialStore> from_json(std::string_view text, std::string_view source);

  // Credentials for `registry` ("docker.io", "127.0.0.1:5000", "https://index.docker.io/v1/");
  // empty Credentials when there are none. Runs helpers when configured (blocking, at most
  // k_helper_timeout). Errors: those of a failing helper (naming it, never its output secrets).
  Result<Credentials> get(std::string_view registry) const;

  const DockerConfig& config() const { return m_config; }

  static constexpr std::chrono::milliseconds k_helper_timeout{60'000};

 private:
  struct Cache;
  DockerConfig m_config;
  std::shared_ptr<Cache> m_cache;
};

}  // namespace strata::auth
