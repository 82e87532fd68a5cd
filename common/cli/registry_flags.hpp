// kaniko's registry flags, shared by executor, warmer and cachectl, parsed into
// registry::RegistryOptions. Names, forms and defaults follow kaniko:
//   --insecure, --insecure-pull, --insecure-registry R, --skip-tls-verify, --skip-tls-verify-pull,
//   --skip-tls-verify-registry R, --registry-certificate R=PATH, --registry-client-cert R=CERT,KEY,
//   --registry-mirror M, --registry-map ORIG=M1;M2, --skip-default-registry-fallback, --push-retry N.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "registry/options.hpp"
#include "util/result.hpp"

namespace strata::cli {

struct RegistryFlags {
  bool insecure = false;
  bool insecure_pull = false;
  std::vector<std::string> insecure_registries;
  bool skip_tls_verify = false;
  bool skip_tls_verify_pull = false;
  std::vector<std::string> skip_tls_verify_registries;
  std::vector<std::string> registry_certificates;
  std::vector<std::string> registry_client_certs;
  std::vector<std::string> registry_mirrors;
  std::vector<std::string> registry_maps;
  bool skip_default_registry_fallback = false;
  int retries = 3;
};

enum class RetryFlag { none, push_retry };

// Registers the flags in the "Registry" group of app.
void add_registry_flags(CLI::App& app, RegistryFlags& flags, RetryFlag retry = RetryFlag::none);

// Validates the values (R=PATH forms, files that exist) into options. Errors are usage errors.
Result<registry::RegistryOptions> registry_options(const RegistryFlags& flags);

}  // namespace strata::cli
