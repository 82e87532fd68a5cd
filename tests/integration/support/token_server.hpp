// TokenServer: the Docker token authentication server the registry's `auth.token` mode points to,
// as tests/integration/support/token_server.py (Python 3 stdlib + openssl CLI) on a loopback port
// it picks itself and reports on stdout (so there is no free-port race).
//
// GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...][&offline_token=true]
//      Basic auth with the configured user/password grants what the scopes ask for (limited to
//      `allowed_actions`); no Authorization grants only pull when anonymous_pull, else 401; wrong
//      credentials → 401. Answers {"token","access_token","expires_in","issued_at"} (+
//      "refresh_token" when offline_token=true and authenticated).
// POST /token  (OAuth2 form) grant_type=password (username, password) or refresh_token
//      (refresh_token), with service, scope, client_id: answers access_token + refresh_token.
// GET  /stats  {"token_requests","oauth_requests","refresh_requests","denied","issued"} so
//      tests can assert that a client reuses its tokens (also on a plain-HTTP admin port).
// Tokens are RS256 JWTs whose header's x5c carries TestCA::token_cert().
#pragma once

#include <string>

#include "integration/support/process.hpp"
#include "integration/support/temp_dir.hpp"
#include "nlohmann/json.hpp"
#include "util/result.hpp"

namespace strata::itest {

enum class TokenTransport { http, https };
enum class AnonymousPull { denied, allowed };
enum class OAuth2 { enabled, disabled };  // disabled: POST /token answers 404

struct TokenServerOptions {
  std::string user;      // empty: generated
  std::string password;  // empty: generated
  TokenTransport transport = TokenTransport::http;  // https uses TestCA's server certificate
  AnonymousPull anonymous_pull = AnonymousPull::denied;
  OAuth2 oauth2 = OAuth2::enabled;
  std::string allowed_actions = "pull,push,delete,*";  // what an authenticated user may get
  int expires_in = 300;                                 // seconds
  std::string service = "strata-test-registry";
  std::string issuer = "strata-test-issuer";
};

class TokenServer {
 public:
  // Starts the server and waits (≤ 10 s) until it listens. Errors: not_found (python3, openssl),
  // network/timeout with the server's stderr.
  static Result<TokenServer> start(TokenServerOptions options = {});

  const TokenServerOptions& options() const { return m_options; }
  int port() const { return m_port; }
  // A plain-HTTP port serving the same endpoints (/token, /stats): lets tests call the token
  // server directly with http_request() even when port() speaks TLS.
  int admin_port() const { return m_admin_port; }
  // "http(s)://127.0.0.1:PORT/token": the registry's auth.token.realm.
  std::string realm() const;
  const std::string& user() const { return m_options.user; }
  const std::string& password() const { return m_options.password; }
  // A refresh token the server accepts for user() (as a Docker config.json "identitytoken").
  const std::string& identity_token() const { return m_identity_token; }
  // GET /stats, parsed. Served (also) on a plain-HTTP admin port so that no TLS client is needed.
  Result<nlohmann::json> stats() const;
  Process& process() { return m_process; }

 private:
  TokenServerOptions m_options;
  int m_port = 0;
  int m_admin_port = 0;
  std::string m_identity_token;
  TempDir m_dir;
  Process m_process;
};

}  // namespace strata::itest
