#include "cli/registry_flags.hpp"

#include <sys/stat.h>

#include "cli/app.hpp"

namespace strata::cli {
namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

void add_registry_flags(CLI::App& app, RegistryFlags& f, RetryFlag retry) {
  const char* group = "Registry";
  app.add_flag("--insecure", f.insecure, "Push to registries over plain HTTP when HTTPS fails")->group(group);
  app.add_flag("--insecure-pull", f.insecure_pull, "Pull from registries over plain HTTP when HTTPS fails")
      ->group(group);
  app.add_option("--insecure-registry", f.insecure_registries,
                 "Registry (host[:port]) that may be reached over plain HTTP (repeatable)")
      ->group(group)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("--skip-tls-verify", f.skip_tls_verify, "Do not verify certificates of registries pushed to")
      ->group(group);
  app.add_flag("--skip-tls-verify-pull", f.skip_tls_verify_pull,
               "Do not verify certificates of registries pulled from")
      ->group(group);
  app.add_option("--skip-tls-verify-registry", f.skip_tls_verify_registries,
                 "Registry whose certificate is not verified (repeatable)")
      ->group(group)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--registry-certificate", f.registry_certificates,
                 "CA certificate for one registry: REGISTRY=PATH (repeatable)")
      ->group(group)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--registry-client-cert", f.registry_client_certs,
                 "Client certificate for mutual TLS: REGISTRY=CERT,KEY (repeatable)")
      ->group(group)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--registry-mirror", f.registry_mirrors,
                 "Mirror for Docker Hub pulls, tried in order before docker.io (repeatable)")
      ->group(group)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--registry-map", f.registry_maps,
                 "Mirrors for any registry: ORIGINAL=MIRROR[;MIRROR...] (repeatable)")
      ->group(group)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("--skip-default-registry-fallback", f.skip_default_registry_fallback,
               "Fail instead of falling back to the original registry when all mirrors fail")
      ->group(group);
  if (retry == RetryFlag::push_retry) {
    app.add_option("--push-retry", f.retries, "Retries of a failed registry request (backoff with jitter)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100))
        ->group(group);
  }
}

Result<registry::RegistryOptions> registry_options(const RegistryFlags& f) {
  registry::RegistryOptions o;
  o.insecure = f.insecure;
  o.insecure_pull = f.insecure_pull;
  o.insecure_registries = f.insecure_registries;
  o.skip_tls_verify = f.skip_tls_verify;
  o.skip_tls_verify_pull = f.skip_tls_verify_pull;
  o.skip_tls_verify_registries = f.skip_tls_verify_registries;
  o.registry_mirrors = f.registry_mirrors;
  o.skip_default_registry_fallback = f.skip_default_registry_fallback;
  o.retry.max_retries = f.retries;
  for (const auto& text : f.registry_certificates) {
    auto parsed = registry::parse_registry_certificate(text);
    if (!parsed) return fail(usage_error(parsed.error().message()));
    if (!file_exists(parsed->second))
      return fail(usage_error("--registry-certificate " + text + ": no such file: " + parsed->second));
    o.registry_certificates[parsed->first] = parsed->second;
  }
  for (const auto& text : f.registry_client_certs) {
    auto parsed = registry::parse_registry_client_cert(text);
    if (!parsed) return fail(usage_error(parsed.error().message()));
    for (const auto& path : {parsed->second.cert_file, parsed->second.key_file}) {
      if (!file_exists(path)) return fail(usage_error("--registry-client-cert " + text + ": no such file: " + path));
    }
    o.registry_client_certs[parsed->first] = parsed->second;
  }
  for (const auto& text : f.registry_maps) {
    auto parsed = registry::parse_registry_map(text);
    if (!parsed) return fail(usage_error(parsed.error().message()));
    auto& mirrors = o.registry_maps[parsed->first];
    mirrors.insert(mirrors.end(), parsed->second.begin(), parsed->second.end());
  }
  return o;
}

}  // namespace strata::cli
