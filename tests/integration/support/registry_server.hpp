// RegistryServer: a real `docker-registry serve` (distribution 2.8) on a free 127.0.0.1 port, with
// its storage, config and log in a TempDir (kept when the test fails: look at registry.log).
//
// Modes (RegistryOptions): plain HTTP or TLS (TestCA's server certificate; optionally requiring a
// client certificate signed by the CA), no auth / htpasswd basic auth (user and password generated
// per run, bcrypt via `htpasswd -Bbc`) / token auth (starts an owned TokenServer), deletes
// enabled or not, and pull-through mirror mode (proxy.remoteurl; the registry then refuses pushes).
//
// start() returns once GET /v2/ can be served (TCP accept within 10 s); if the port was taken in
// between (free_port() race), it retries on another port. The destructor stops the registry
// (SIGTERM, SIGKILL after 2 s) and its token server.
//
// Thread safety: none; one test owns one server. Servers in parallel tests never share ports or
// directories.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/process.hpp"
#include "integration/support/temp_dir.hpp"
#include "integration/support/token_server.hpp"
#include "util/result.hpp"

namespace strata::itest {

enum class RegistryTransport { http, tls, mutual_tls };
enum class RegistryAuth { none, htpasswd, token };
enum class Deletes { enabled, disabled };

struct RegistryOptions {
  RegistryTransport transport = RegistryTransport::http;
  RegistryAuth auth = RegistryAuth::none;
  Deletes deletes = Deletes::enabled;
  std::string proxy_remote_url;  // non-empty: pull-through mirror of this registry URL
  std::string proxy_user;        // credentials for the remote, if it needs them
  std::string proxy_password;
  TokenServerOptions token;      // used when auth == token (user/password generated if empty)
  std::string user;              // htpasswd credentials; generated if empty
  std::string password;
};

class RegistryServer {
 public:
  static Result<RegistryServer> start(RegistryOptions options = {});

  RegistryServer(RegistryServer&&) noexcept = default;
  RegistryServer& operator=(RegistryServer&&) noexcept = default;
  ~RegistryServer();

  const RegistryOptions& options() const { return m_options; }
  int port() const { return m_port; }
  std::string host() const;  // "127.0.0.1:PORT"
  std::string url() const;   // "http://127.0.0.1:PORT" or "https://..."
  bool tls() const { return m_options.transport != RegistryTransport::http; }
  // Credentials a client must present (htpasswd or token-server user), or empty strings.
  bool has_credentials() const { return m_options.auth != RegistryAuth::none; }
  const std::string& user() const;
  const std::string& password() const;
  std::string ca_cert() const;   // "" for plain HTTP
  std::string cert_dir() const;  // skopeo --cert-dir: only ca.crt (client-certs/ for mTLS)
  // The token server (auth == token), else nullptr.
  TokenServer* token_server() { return m_token.get(); }
  const TokenServer* token_server() const { return m_token.get(); }

  const std::string& dir() const { return m_dir.path(); }
  std::string config_path() const { return m_dir.file("config.yml"); }
  std::string storage_dir() const { return m_dir.file("storage"); }
  std::string log_path() const { return m_dir.file("registry.log"); }
  // The registry's log so far, for assertion messages.
  std::string log() const;
  // Stops the registry (idempotent).
  void stop();

 private:
  RegistryServer() = default;
  Result<void> write_config() const;
  Result<void> launch();

  RegistryOptions m_options;
  int m_port = 0;
  TempDir m_dir;
  std::unique_ptr<TokenServer> m_token;
  Process m_process;
};

}  // namespace strata::itest
