#include "integration/support/token_server.hpp"

#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "integration/support/http_client.hpp"
#include "integration/support/random_hex.hpp"
#include "integration/support/test_ca.hpp"

namespace strata::itest {

using namespace std::chrono_literals;

namespace {

// The script prints "listening PORT ADMINPORT" once both sockets are bound.
Result<std::pair<int, int>> wait_for_ports(Process& process, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::istringstream out(process.out());
    std::string word;
    int port = 0, admin = 0;
    if (out >> word >> port >> admin && word == "listening") return std::pair{port, admin};
    if (!process.running())
      return fail(ErrorKind::network, "token server exited with " +
                                          std::to_string(process.exit_code().value_or(-1)) + ":\n" +
                                          process.err());
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(ErrorKind::timeout, "token server did not start within 10 s:\n" + process.err());
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace

Result<TokenServer> TokenServer::start(TokenServerOptions options) {
  const TestCA* ca = TRY(TestCA::get());
  if (options.user.empty()) options.user = "strata-" + random_hex(4);
  if (options.password.empty()) options.password = random_hex(12);

  TokenServer server;
  server.m_options = options;
  server.m_identity_token = random_hex(24);
  server.m_dir = TRY(TempDir::create("token"));

  ProcessOptions p;
  p.argv = {"python3", source_dir() + "/tests/integration/support/token_server.py",
            "--sign-cert", ca->token_cert(), "--sign-key", ca->token_key(),
            "--user", options.user, "--password", options.password,
            "--refresh-token", server.m_identity_token,
            "--allowed-actions", options.allowed_actions,
            "--expires-in", std::to_string(options.expires_in),
            "--issuer", options.issuer, "--service", options.service};
  if (options.transport == TokenTransport::https) {
    p.argv.insert(p.argv.end(), {"--tls-cert", ca->server_cert(), "--tls-key", ca->server_key()});
  }
  if (options.anonymous_pull == AnonymousPull::allowed) p.argv.push_back("--anonymous-pull");
  if (options.oauth2 == OAuth2::disabled) p.argv.push_back("--no-oauth");
  p.stdout_path = server.m_dir.file("stdout");
  p.stderr_path = server.m_dir.file("token-server.log");
  p.env = {{"PYTHONUNBUFFERED", "1"}};
  server.m_process = TRY(Process::start(std::move(p)));
  auto [port, admin] = TRY(wait_for_ports(server.m_process, 10s));
  server.m_port = port;
  server.m_admin_port = admin;
  return server;
}

std::string TokenServer::realm() const {
  return std::string(m_options.transport == TokenTransport::https ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(m_port) + "/token";
}

Result<nlohmann::json> TokenServer::stats() const {
  HttpResponse r = TRY(http_request(m_admin_port, "GET", "/stats"));
  if (r.status != 200)
    return fail(ErrorKind::network, "token server /stats: HTTP " + std::to_string(r.status));
  try {
    return nlohmann::json::parse(r.body);
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("token server /stats: ") + e.what());
  }
}

}  // namespace strata::itest
