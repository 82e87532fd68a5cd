// Session: the HTTP layer under registry::Client — scheme selection, the auth flow, retries and
// redirects for requests to registries. Internal to registry/ (Client is the public API), but a
// header of its own so that the auth flow can be tested with a fake transport.
//
// Thread safety: all member functions may be called concurrently; per-registry state (scheme,
// challenge) and the token cache are guarded by one mutex, never held during network calls.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/token.hpp"
#include "auth/www_authenticate.hpp"
#include "registry/options.hpp"
#include "transport/retry.hpp"
#include "transport/transport.hpp"

namespace strata::registry {

// What the auth flow needs to know about a user's credentials for one registry.
struct Login {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token (config.json "identitytoken")
  std::string registry_token;  // sent as-is as a Bearer token (config.json "registrytoken")
  bool empty() const { return username.empty() && password.empty() && identity_token.empty() && registry_token.empty(); }
};
// Looks up the login for a registry ("docker.io", "127.0.0.1:5000"). No login is an empty Login.
using LoginLookup = std::function<Result<Login>(std::string_view registry)>;

struct Call {
  transport::Method method = transport::Method::get;
  std::string registry;  // "127.0.0.1:5000", "docker.io"
  Purpose purpose = Purpose::pull;
  // "/v2/..." (joined to the registry's base URL) or an absolute URL (upload Location, Link).
  std::string target;
  transport::Headers headers;
  std::optional<std::string> body_bytes;
  transport::BodySource* body_stream = nullptr;
  transport::BodySink body_sink;
  std::function<Result<void>(int, const transport::Headers&)> on_body_start;
  std::vector<std::string> scopes;  // token scopes this request needs
  bool follow_redirects = false;
  bool retry = true;  // false: one attempt (callers with their own retry loop, e.g. blob resume)
};

class Session {
 public:
  Session(RegistryOptions options, LoginLookup logins, std::shared_ptr<transport::Transport> transport,
          transport::RetryEnv env);

  // Performs the call, answering auth challenges (one retry per new challenge), following
  // redirects when asked (Authorization dropped when the host changes), and retrying retryable
  // failures (network, 408, 429, 5xx; Retry-After honoured) with backoff. Returns the final
  // response whatever its status; transport errors after the last retry are returned as errors.
  Result<transport::Response> call(Call& call);

  // "https://host" or "http://host" for the registry, pinging /v2/ the first time (HTTPS first,
  // plain HTTP only when allowed and HTTPS fails to connect).
  Result<std::string> base_url(const std::string& registry, Purpose purpose);

  // Obtains (or reuses) a token for the scopes; used by check_push. nullopt when the registry
  // does not use Bearer auth.
  Result<std::optional<std::string>> token_for(const std::string& registry, Purpose purpose,
                                               const std::vector<std::string>& scopes);

  const RegistryOptions& options() const { return m_options; }
  const transport::RetryEnv& env() const { return m_env; }

  // Sleeps before retry number `retry`, honouring a Retry-After header of `response` if any.
  void backoff(int retry, const transport::Response* response) const;

  // Number of token requests made (tests assert reuse).
  int token_requests() const;

 private:
  struct HostState {
    std::string base_url;
    std::vector<auth::Challenge> challenges;
  };

  Result<HostState> ping(const std::string& registry, Purpose purpose);
  Result<HostState> host_state(const std::string& registry, Purpose purpose);
  Result<std::optional<std::string>> authorization(const std::string& registry, Purpose purpose,
                                                   const HostState& state, const std::vector<std::string>& scopes,
                                                   bool fresh);
  Result<auth::Token> fetch_token(const std::string& registry, Purpose purpose, const auth::Challenge& bearer,
                                  const std::vector<std::string>& scopes, const Login& login);
  Result<transport::Response> perform_with_redirects(Call& call, const std::string& url,
                                                     const std::optional<std::string>& authorization);
  Result<transport::Response> attempt(Call& call);
  Result<Login> login_for(const std::string& registry);

  RegistryOptions m_options;
  LoginLookup m_logins;
  std::shared_ptr<transport::Transport> m_transport;
  transport::RetryEnv m_env;

  mutable std::mutex m_mutex;
  std::map<std::string, HostState> m_hosts;   // key: registry + "|" + purpose
  std::map<std::string, auth::Token> m_tokens;  // key: registry + "|" + sorted scopes
  int m_token_requests = 0;
};

// URL helpers (exposed for tests).
std::string url_origin(std::string_view url);  // "https://h:5000" of "https://h:5000/v2/x"
std::string resolve_url(std::string_view base, std::string_view location);
// The "next" target of a Link header (`<url>; rel="next"`), resolved against base; "" if none.
std::string next_link(std::string_view base, const std::vector<std::string>& link_headers);

}  // namespace strata::registry
