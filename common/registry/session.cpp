// The registry auth flow (distribution's token authentication spec, and Docker's client behaviour):
//
// 1. Ping: GET /v2/ once per registry and purpose. 200 means no auth. 401 carries
//    WWW-Authenticate challenges: "Basic realm=..." or "Bearer realm=R,service=S[,scope=...]". HTTPS
//    is tried first; plain HTTP only for registries the options mark insecure, and only when HTTPS
//    fails at the transport level (kaniko's fallback).
// 2. Per request: a Bearer registry needs a token for the request's scopes
//    ("repository:NAME:pull[,push]"). With an identity token (OAuth2 refresh token) the client POSTs
//    grant_type=refresh_token to the realm (falling back to GET when the realm answers 404/405);
//    otherwise it GETs realm?service=S&scope=..., with Basic credentials when it has a username and
//    anonymously if not. The answer's "token" (or "access_token") is cached per (registry, scope
//    set) until 30 s before its expires_in. A registry token from config.json is used as-is. Basic
//    registries get "Basic base64(user:pass)".
// 3. A 401 to a request brings a new challenge (e.g. error="insufficient_scope" with the scope it
//    wants): the client merges that scope into its own, fetches a fresh token and retries once.
// 4. Redirects (blob GETs go to storage) are followed by hand so that Authorization is dropped when
//    the host changes: a signed storage URL must not receive the registry token.
// 5. Retryable failures (network, timeouts, 408, 429, 5xx) are retried with exponential backoff and
//    jitter, up to options.retry.max_retries, waiting at least as long as Retry-After asks.
//
// Every token, password and Authorization value is registered with log::add_secret() before it is
// used, and no code here logs headers; URLs are logged without their query (signed storage URLs).
#include "registry/session.hpp"

#include <algorithm>
#include <set>

#include "util/log.hpp"

namespace strata::registry {
namespace {

using transport::Method;
using transport::Request;
using transport::Response;

constexpr std::string_view k_client_id = "strata";
constexpr int k_max_redirects = 10;
constexpr std::chrono::seconds k_token_margin{30};

bool retryable_status(int status) { return status == 408 || status == 429 || status >= 500; }
bool redirect_status(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string without_query(std::string_view url) { return std::string(url.substr(0, url.find('?'))); }

std::vector<std::string> split_scopes(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto sp = text.find(' ', pos);
    if (sp == std::string::npos) sp = text.size();
    if (sp > pos) out.push_back(text.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

std::string scope_key(const std::string& registry, std::vector<std::string> scopes) {
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  std::string key = registry;
  for (const auto& s : scopes) key += "|" + s;
  return key;
}

std::string host_key(const std::string& registry, Purpose purpose) {
  return registry + (purpose == Purpose::push ? "|push" : "|pull");
}

}  // namespace

std::string url_origin(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  auto path = url.find_first_of("/?#", scheme_end + 3);
  return std::string(url.substr(0, path));
}

std::string resolve_url(std::string_view base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  std::string origin = url_origin(base);
  if (location.starts_with("//")) return origin.substr(0, origin.find("://") + 1) + std::string(location);
  if (location.starts_with("/")) return origin + std::string(location);
  std::string dir = without_query(base);
  dir.resize(dir.rfind('/') + 1);
  return dir + std::string(location);
}

std::string next_link(std::string_view base, const std::vector<std::string>& link_headers) {
  for (const auto& header : link_headers) {
    std::string_view rest = header;
    while (!rest.empty()) {
      auto open = rest.find('<');
      auto close = rest.find('>', open);
      if (open == std::string_view::npos || close == std::string_view::npos) break;
      std::string_view target = rest.substr(open + 1, close - open - 1);
      auto next_entry = rest.find(',', close);
      std::string_view params = rest.substr(close + 1, next_entry == std::string_view::npos ? next_entry : next_entry - close - 1);
      std::string lowered(params);
      std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) { return std::tolower(c); });
      if (lowered.find("rel=\"next\"") != std::string::npos || lowered.find("rel=next") != std::string::npos) {
        return resolve_url(base, target);
      }
      if (next_entry == std::string_view::npos) break;
      rest.remove_prefix(next_entry + 1);
    }
  }
  return "";
}

Session::Session(RegistryOptions options, LoginLookup logins, std::shared_ptr<transport::Transport> transport,
                 transport::RetryEnv env)
    : m_options(std::move(options)), m_logins(std::move(logins)), m_transport(std::move(transport)), m_env(std::move(env)) {}

void Session::backoff(int retry, const Response* response) const {
  auto delay = transport::backoff_delay(m_options.retry, retry, m_env.random ? m_env.random() : 0.5);
  if (response != nullptr) {
    if (auto header = response->headers.get("Retry-After")) {
      if (auto wait = transport::parse_retry_after(*header, m_env.now())) {
        delay = std::max(delay, std::min(*wait, m_options.retry.max_retry_after));
      }
    }
  }
  log::debug("retrying after " + std::to_string(delay.count()) + "ms");
  m_env.sleep(delay);
}

int Session::token_requests() const {
  std::lock_guard lock(m_mutex);
  return m_token_requests;
}

Result<Login> Session::login_for(const std::string& registry) {
  if (!m_logins) return Login{};
  Login login = TRY(m_logins(registry));
  for (const std::string* s : {&login.password, &login.identity_token, &login.registry_token}) {
    log::add_secret(*s);
  }
  return login;
}

Result<Session::HostState> Session::ping(const std::string& registry, Purpose purpose) {
  std::string host = api_host(registry);
  std::vector<std::string> schemes{"https://"};
  if (allows_plain_http(m_options, registry, purpose)) schemes.push_back("http://");
  for (int retry = 0;; ++retry) {
    std::optional<Error> last_error;
    std::optional<Response> last_response;
    for (const auto& scheme : schemes) {
      Request request;
      request.url = scheme + host + "/v2/";
      request.tls = tls_for(m_options, registry, purpose);
      auto response = m_transport->perform(request);
      if (!response) {
        log::debug("ping " + request.url + ": " + response.error().message());
        last_error = response.error();
        continue;
      }
      last_error.reset();
      if (retryable_status(response->status)) {
        last_response = std::move(*response);
        break;
      }
      HostState state;
      state.base_url = scheme + host;
      if (response->status == 401) {
        state.challenges = auth::parse_www_authenticate_all(response->headers.get_all("WWW-Authenticate"));
      }
      log::debug("registry " + registry + " at " + state.base_url,
                 {{"auth", state.challenges.empty() ? "none" : state.challenges.front().scheme}});
      return state;
    }
    bool retryable = last_error ? last_error->retryable() : true;
    if (!retryable || retry >= m_options.retry.max_retries) {
      if (last_error) return fail(last_error->with_context("ping " + registry));
      return fail(transport::status_error(last_response->status, "GET " + schemes.front() + host + "/v2/",
                                          last_response->body));
    }
    backoff(retry, last_response ? &*last_response : nullptr);
  }
}

Result<Session::HostState> Session::host_state(const std::string& registry, Purpose purpose) {
  std::string key = host_key(registry, purpose);
  {
    std::lock_guard lock(m_mutex);
    if (auto it = m_hosts.find(key); it != m_hosts.end()) return it->second;
  }
  HostState state = TRY(ping(registry, purpose));
  std::lock_guard lock(m_mutex);
  return m_hosts.emplace(key, std::move(state)).first->second;
}

Result<std::string> Session::base_url(const std::string& registry, Purpose purpose) {
  HostState state = TRY(host_state(registry, purpose));
  return state.base_url;
}

Result<auth::Token> Session::fetch_token(const std::string& registry, Purpose purpose, const auth::Challenge& bearer,
                                         const std::vector<std::string>& scopes, const Login& login) {
  {
    std::lock_guard lock(m_mutex);
    ++m_token_requests;
  }
  std::string realm = bearer.param("realm");
  std::string what = "token for " + registry;
  for (const auto& s : scopes) what += " " + s;
  auto tls = tls_for(m_options, registry, purpose);

  auto exchange = [&](Request& request) -> Result<Response> {
    for (int retry = 0;; ++retry) {
      auto response = m_transport->perform(request);
      bool again = response ? retryable_status(response->status) : response.error().retryable();
      if (!again || retry >= m_options.retry.max_retries) return response;
      backoff(retry, response ? &*response : nullptr);
    }
  };
  auto accept = [&](const Response& response) -> Result<auth::Token> {
    if (response.status == 401) {
      return fail(ErrorKind::unauthorized, what + ": the token server rejected the credentials" +
                                               (login.empty() ? " (no credentials configured)" : ""));
    }
    if (response.status < 200 || response.status >= 300) {
      return fail(transport::status_error(response.status, what, response.body));
    }
    auto token = auth::parse_token_response(response.body, m_env.now());
    if (!token) return fail(token.error().with_context(what));
    log::add_secret(token->value);
    log::add_secret(token->refresh_token);
    return token;
  };

  if (!login.identity_token.empty()) {
    Request post;
    post.method = Method::post;
    post.url = realm;
    post.tls = tls;
    post.headers.add("Content-Type", "application/x-www-form-urlencoded");
    post.body_bytes = auth::oauth_refresh_form(bearer, scopes, login.identity_token, k_client_id);
    Response response = TRY_CTX(exchange(post), what);
    if (response.status != 404 && response.status != 405) return accept(response);
    log::debug("token realm does not take OAuth2 POST; using GET", {{"registry", registry}});
  }

  Request get;
  get.url = TRY_CTX(auth::token_url(bearer, scopes), what);
  get.tls = tls;
  if (!login.username.empty()) {
    std::string value = auth::basic_authorization(login.username, login.password);
    log::add_secret(value.substr(6));
    get.headers.add("Authorization", value);
  }
  Response response = TRY_CTX(exchange(get), what);
  return accept(response);
}

Result<std::optional<std::string>> Session::authorization(const std::string& registry, Purpose purpose,
                                                          const HostState& state,
                                                          const std::vector<std::string>& scopes, bool fresh) {
  Login login = TRY(login_for(registry));
  if (!login.registry_token.empty()) return "Bearer " + login.registry_token;
  if (const auth::Challenge* bearer = auth::find_challenge(state.challenges, "bearer")) {
    std::string key = scope_key(registry, scopes);
    if (!fresh) {
      std::lock_guard lock(m_mutex);
      if (auto it = m_tokens.find(key); it != m_tokens.end() && it->second.expires_at - k_token_margin > m_env.now()) {
        return "Bearer " + it->second.value;
      }
    }
    auth::Token token = TRY(fetch_token(registry, purpose, *bearer, scopes, login));
    std::string value = "Bearer " + token.value;
    std::lock_guard lock(m_mutex);
    m_tokens[key] = std::move(token);
    return value;
  }
  if (auth::find_challenge(state.challenges, "basic") != nullptr && !login.username.empty()) {
    std::string value = auth::basic_authorization(login.username, login.password);
    log::add_secret(value.substr(6));
    return value;
  }
  return std::optional<std::string>();
}

Result<std::optional<std::string>> Session::token_for(const std::string& registry, Purpose purpose,
                                                      const std::vector<std::string>& scopes) {
  HostState state = TRY(host_state(registry, purpose));
  if (auth::find_challenge(state.challenges, "bearer") == nullptr) return std::optional<std::string>();
  return authorization(registry, purpose, state, scopes, false);
}

Result<Response> Session::perform_with_redirects(Call& call, const std::string& url,
                                                 const std::optional<std::string>& authorization) {
  Request request;
  request.method = call.method;
  request.url = url;
  request.headers = call.headers;
  if (authorization) request.headers.set("Authorization", *authorization);
  request.body_bytes = call.body_bytes;
  request.body_stream = call.body_stream;
  request.body_sink = call.body_sink;
  request.on_body_start = call.on_body_start;
  request.tls = tls_for(m_options, call.registry, call.purpose);
  for (int hop = 0; hop <= k_max_redirects; ++hop) {
    Response response = TRY(m_transport->perform(request));
    log::debug(std::string(transport::to_string(request.method)) + " " + without_query(request.url),
               {{"status", std::to_string(response.status)}});
    auto location = response.headers.get("Location");
    if (!call.follow_redirects || !redirect_status(response.status) || !location) return response;
    std::string next = resolve_url(request.url, *location);
    if (url_origin(next) != url_origin(request.url)) request.headers.remove("Authorization");
    request.url = next;
  }
  return fail(ErrorKind::network, std::string(transport::to_string(call.method)) + " " + without_query(url) +
                                      ": more than " + std::to_string(k_max_redirects) + " redirects");
}

Result<Response> Session::attempt(Call& call) {
  HostState state = TRY(host_state(call.registry, call.purpose));
  std::string url = call.target.find("://") != std::string::npos ? call.target : state.base_url + call.target;
  auto first = TRY(authorization(call.registry, call.purpose, state, call.scopes, false));
  Response response = TRY(perform_with_redirects(call, url, first));
  if (response.status != 401) return response;

  auto challenges = auth::parse_www_authenticate_all(response.headers.get_all("WWW-Authenticate"));
  if (challenges.empty()) return response;
  state.challenges = challenges;
  {
    std::lock_guard lock(m_mutex);
    m_hosts[host_key(call.registry, call.purpose)].challenges = challenges;
  }
  std::vector<std::string> scopes = call.scopes;
  if (const auth::Challenge* bearer = auth::find_challenge(challenges, "bearer")) {
    for (auto& s : split_scopes(bearer->param("scope"))) {
      if (std::find(scopes.begin(), scopes.end(), s) == scopes.end()) scopes.push_back(std::move(s));
    }
  }
  auto second = TRY(authorization(call.registry, call.purpose, state, scopes, true));
  if (!second || second == first) return response;
  return perform_with_redirects(call, url, second);
}

Result<Response> Session::call(Call& call) {
  for (int retry = 0;; ++retry) {
    auto response = attempt(call);
    bool last = !call.retry || retry >= m_options.retry.max_retries;
    if (!response) {
      if (last || !response.error().retryable()) return response;
      log::debug(response.error().message());
      backoff(retry, nullptr);
      continue;
    }
    if (last || !retryable_status(response->status)) return response;
    backoff(retry, &*response);
  }
}

}  // namespace strata::registry
