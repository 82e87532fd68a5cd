#include "integration/support/registry_server.hpp"

#include <sstream>

#include "integration/support/random_hex.hpp"
#include "integration/support/test_ca.hpp"

namespace strata::itest {

using namespace std::chrono_literals;

namespace {

// YAML double-quoted scalar; our values are paths, URLs and generated tokens.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

const std::string k_empty;
constexpr int k_port_attempts = 4;

}  // namespace

Result<RegistryServer> RegistryServer::start(RegistryOptions options) {
  if (find_binary("docker-registry").empty())
    return fail(ErrorKind::not_found, "docker-registry: not installed (scripts/install-deps.sh)");
  RegistryServer server;
  if (options.auth == RegistryAuth::htpasswd) {
    if (options.user.empty()) options.user = "strata-" + random_hex(4);
    if (options.password.empty()) options.password = random_hex(12);
  }
  if (options.auth == RegistryAuth::token && options.transport == RegistryTransport::http &&
      options.token.transport == TokenTransport::https)
    return fail(ErrorKind::invalid_argument, "token server over https needs a TLS registry");
  server.m_options = std::move(options);
  server.m_dir = TRY(TempDir::create("registry"));
  if (server.tls() || server.m_options.auth == RegistryAuth::token) TRY(TestCA::get());

  if (server.m_options.auth == RegistryAuth::htpasswd) {
    TRY_CTX(run_checked({"htpasswd", "-Bbc", server.m_dir.file("htpasswd"), server.m_options.user,
                         server.m_options.password}),
            "making htpasswd file");
  }
  if (server.m_options.auth == RegistryAuth::token) {
    server.m_token = std::make_unique<TokenServer>(TRY(TokenServer::start(server.m_options.token)));
    server.m_options.token = server.m_token->options();  // with the generated credentials
  }

  for (int attempt = 1;; ++attempt) {
    server.m_port = TRY(free_port());
    TRY(server.write_config());
    auto launched = server.launch();
    if (launched) return server;
    // Someone may have bound the port between free_port() and the registry's listen().
    bool port_taken = server.log().find("address already in use") != std::string::npos;
    if (!port_taken || attempt == k_port_attempts)
      return fail(launched.error().with_context("starting docker-registry (log: " +
                                                server.log_path() + ")"));
  }
}

Result<void> RegistryServer::write_config() const {
  const RegistryOptions& o = m_options;
  std::ostringstream y;
  y << "version: 0.1\n"
    << "log:\n  level: info\n  formatter: text\n"
    << "storage:\n"
    << "  filesystem:\n    rootdirectory: " << quoted(storage_dir()) << "\n"
    << "  delete:\n    enabled: " << (o.deletes == Deletes::enabled ? "true" : "false") << "\n"
    << "  maintenance:\n    uploadpurging:\n      enabled: false\n"
    << "http:\n  addr: 127.0.0.1:" << m_port << "\n"
    << "  secret: " << quoted(random_hex(16)) << "\n";
  if (tls()) {
    const TestCA* ca = TRY(TestCA::get());
    y << "  tls:\n    certificate: " << quoted(ca->server_cert()) << "\n"
      << "    key: " << quoted(ca->server_key()) << "\n";
    if (o.transport == RegistryTransport::mutual_tls)
      y << "    clientcas:\n      - " << quoted(ca->ca_cert()) << "\n";
  }
  if (o.auth == RegistryAuth::htpasswd) {
    y << "auth:\n  htpasswd:\n    realm: strata-test\n    path: " << quoted(m_dir.file("htpasswd"))
      << "\n";
  } else if (o.auth == RegistryAuth::token) {
    const TestCA* ca = TRY(TestCA::get());
    y << "auth:\n  token:\n    realm: " << quoted(m_token->realm()) << "\n"
      << "    service: " << quoted(o.token.service) << "\n"
      << "    issuer: " << quoted(o.token.issuer) << "\n"
      << "    rootcertbundle: " << quoted(ca->token_cert()) << "\n";
  }
  if (!o.proxy_remote_url.empty()) {
    y << "proxy:\n  remoteurl: " << quoted(o.proxy_remote_url) << "\n";
    if (!o.proxy_user.empty())
      y << "  username: " << quoted(o.proxy_user) << "\n  password: " << quoted(o.proxy_password)
        << "\n";
  }
  return write_file(config_path(), y.str());
}

Result<void> RegistryServer::launch() {
  ProcessOptions p;
  p.argv = {"docker-registry", "serve", config_path()};
  p.stdout_path = log_path();
  p.stderr_path = log_path();
  // Go reads SSL_CERT_FILE: a mirror of a TLS registry must trust the test CA.
  if (!m_options.proxy_remote_url.empty() && m_options.proxy_remote_url.rfind("https:", 0) == 0)
    p.env.emplace_back("SSL_CERT_FILE", TRY(TestCA::get())->ca_cert());
  m_process = TRY(Process::start(std::move(p)));
  auto ready = wait_for_port(m_port, 10s, &m_process);
  if (!ready) {
    m_process.kill();
    return fail(ready.error());
  }
  return {};
}

RegistryServer::~RegistryServer() { stop(); }

void RegistryServer::stop() {
  m_process.kill();
  m_token.reset();
}

std::string RegistryServer::host() const { return "127.0.0.1:" + std::to_string(m_port); }
std::string RegistryServer::url() const { return (tls() ? "https://" : "http://") + host(); }

const std::string& RegistryServer::user() const {
  if (m_options.auth == RegistryAuth::htpasswd) return m_options.user;
  if (m_options.auth == RegistryAuth::token) return m_options.token.user;
  return k_empty;
}

const std::string& RegistryServer::password() const {
  if (m_options.auth == RegistryAuth::htpasswd) return m_options.password;
  if (m_options.auth == RegistryAuth::token) return m_options.token.password;
  return k_empty;
}

std::string RegistryServer::ca_cert() const {
  if (!tls()) return {};
  auto ca = TestCA::get();
  return ca ? (*ca)->ca_cert() : std::string();
}

std::string RegistryServer::cert_dir() const {
  if (!tls()) return {};
  auto ca = TestCA::get();
  if (!ca) return {};
  return m_options.transport == RegistryTransport::mutual_tls ? (*ca)->client_cert_dir()
                                                              : (*ca)->cert_dir();
}

std::string RegistryServer::log() const {
  auto r = read_file(log_path());
  return r ? *r : std::string();
}

}  // namespace strata::itest
