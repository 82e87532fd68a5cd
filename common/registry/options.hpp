// RegistryOptions: how Strata talks to registries, mirroring kaniko's flags. The tools register the
// flags (CLI11) and fill this struct; common/ only reads it. Registry names in every list are
// "host[:port]" as written in image references ("127.0.0.1:5000", "gcr.io"); "docker.io",
// "index.docker.io" and "registry-1.docker.io" all name Docker Hub.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "transport/retry.hpp"
#include "transport/transport.hpp"
#include "util/result.hpp"

namespace strata::registry {

// Whether an operation reads (pull) or writes (push): kaniko has separate insecure/TLS flags.
enum class Purpose { pull, push };

struct ClientCert {
  std::string cert_file;
  std::string key_file;
};

struct RegistryOptions {
  // --skip-tls-verify: no certificate checks for the registries we push to.
  bool skip_tls_verify = false;
  // --skip-tls-verify-pull: no certificate checks for the registries we pull from.
  bool skip_tls_verify_pull = false;
  // --skip-tls-verify-registry R (repeatable): no certificate checks for R, push and pull.
  std::vector<std::string> skip_tls_verify_registries;
  // --registry-certificate R=path (repeatable): PEM CA bundle used to verify R (replaces the
  // system bundle for that registry).
  std::map<std::string, std::string> registry_certificates;
  // --registry-client-cert R=cert,key (repeatable): client certificate for mutual TLS with R.
  std::map<std::string, ClientCert> registry_client_certs;
  // --insecure: push registries may be reached over plain HTTP. --insecure-pull: same for pulls.
  // --insecure-registry R (repeatable): R may use plain HTTP, push and pull. As kaniko, HTTPS is
  // tried first and plain HTTP only when HTTPS cannot connect.
  bool insecure = false;
  bool insecure_pull = false;
  std::vector<std::string> insecure_registries;
  // --registry-mirror M (repeatable): for Docker Hub pulls, "host[:port][/path-prefix]" tried in
  // order before Docker Hub itself.
  std::vector<std::string> registry_mirrors;
  // --registry-map ORIG=M1;M2 (repeatable): the same for any registry ORIG.
  std::map<std::string, std::vector<std::string>> registry_maps;
  // --skip-default-registry-fallback: when mirrors are configured, never fall back to the original.
  bool skip_default_registry_fallback = false;
  // --push-retry N sets retry.max_retries (default 3). Applies to every request, pulls included.
  transport::RetryPolicy retry;
  // Blob uploads: 0 = one monolithic PUT; otherwise PATCH chunks of this size, then PUT.
  std::uint64_t upload_chunk_size = 0;
};

// Flag value parsers for the tools. Errors: invalid_argument naming the flag and the value.
Result<std::pair<std::string, std::string>> parse_registry_certificate(std::string_view text);  // "R=path"
Result<std::pair<std::string, ClientCert>> parse_registry_client_cert(std::string_view text);   // "R=cert,key"
Result<std::pair<std::string, std::vector<std::string>>> parse_registry_map(std::string_view text);  // "O=M1;M2"

// "index.docker.io"/"registry-1.docker.io"/"docker.io" → "docker.io"; everything else unchanged
// (without a trailing '/').
std::string canonical_registry(std::string_view host);
// The host to send requests to: "registry-1.docker.io" for Docker Hub.
std::string api_host(std::string_view registry);

transport::TlsConfig tls_for(const RegistryOptions& options, std::string_view registry, Purpose purpose);
bool allows_plain_http(const RegistryOptions& options, std::string_view registry, Purpose purpose);

// Where a pull of registry/repository may be served from, in order: the --registry-map entries
// for that registry, the --registry-mirror list for Docker Hub, then the original (unless
// skip_default_registry_fallback and some mirror exists).
struct PullSource {
  std::string registry;    // as configured ("mirror.local:5000"); Docker Hub as "docker.io"
  std::string repository;  // with the mirror's path prefix, if any
  bool mirror = false;
};
std::vector<PullSource> pull_sources(const RegistryOptions& options, std::string_view registry,
                                     std::string_view repository);

}  // namespace strata::registry
