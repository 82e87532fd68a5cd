// TestCA: a certificate authority and the certificates the TLS tests need, made with the openssl
// CLI once per test process (ECDSA P-256, the token signer RSA 2048; valid 2 days) and kept in a process-wide TempDir.
//
//   ca.crt / ca.key           the CA (self-signed, basicConstraints CA:TRUE)
//   server.crt / server.key   signed by the CA, SAN IP:127.0.0.1, DNS:localhost, serverAuth
//   client.crt / client.key   signed by the CA, CN strata-test-client, clientAuth (mTLS tests)
//   token.crt / token.key     self-signed RSA signing certificate of the token server; it is the
//                             registry's auth.token.rootcertbundle and the JWTs' x5c
//   certs/ca.crt              a directory holding only ca.crt (skopeo --cert-dir, Docker certs.d)
//   client-certs/             ca.crt + client.cert + client.key (skopeo --cert-dir with mTLS)
//
// Thread safety: get() is safe to call from any thread (function-local static).
#pragma once

#include <string>

#include "util/result.hpp"

namespace strata::itest {

class TestCA {
 public:
  // Makes the files on first call; later calls return the same object. Errors: not_found if
  // openssl is missing, internal with openssl's output if a command fails.
  static Result<const TestCA*> get();

  const std::string& dir() const { return m_dir; }
  std::string ca_cert() const { return m_dir + "/ca.crt"; }
  std::string ca_key() const { return m_dir + "/ca.key"; }
  std::string server_cert() const { return m_dir + "/server.crt"; }
  std::string server_key() const { return m_dir + "/server.key"; }
  std::string client_cert() const { return m_dir + "/client.crt"; }
  std::string client_key() const { return m_dir + "/client.key"; }
  std::string token_cert() const { return m_dir + "/token.crt"; }
  std::string token_key() const { return m_dir + "/token.key"; }
  std::string cert_dir() const { return m_dir + "/certs"; }
  std::string client_cert_dir() const { return m_dir + "/client-certs"; }

 private:
  explicit TestCA(std::string dir) : m_dir(std::move(dir)) {}
  static Result<void> make(const std::string& dir);
  std::string m_dir;
};

}  // namespace strata::itest
