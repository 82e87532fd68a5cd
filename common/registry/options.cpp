#include "registry/options.hpp"

#include <algorithm>

#include "image/reference.hpp"

namespace strata::registry {
namespace {

std::string strip_scheme(std::string_view host) {
  for (std::string_view prefix : {"https://", "http://"}) {
    if (host.starts_with(prefix)) host.remove_prefix(prefix.size());
  }
  while (host.ends_with('/')) host.remove_suffix(1);
  return std::string(host);
}

bool contains_registry(const std::vector<std::string>& list, std::string_view registry) {
  std::string wanted = canonical_registry(registry);
  return std::any_of(list.begin(), list.end(), [&](const std::string& r) { return canonical_registry(r) == wanted; });
}

template <class Map>
auto find_registry(const Map& map, std::string_view registry) {
  std::string wanted = canonical_registry(registry);
  return std::find_if(map.begin(), map.end(), [&](const auto& kv) { return canonical_registry(kv.first) == wanted; });
}

}  // namespace

std::string canonical_registry(std::string_view host) {
  std::string h = strip_scheme(host);
  if (auto slash = h.find('/'); slash != std::string::npos) h.resize(slash);  // "index.docker.io/v1"
  if (h == "index.docker.io" || h == image::k_docker_hub_api_host || h == image::k_docker_hub) {
    return std::string(image::k_docker_hub);
  }
  return h;
}

std::string api_host(std::string_view registry) {
  std::string r = canonical_registry(registry);
  return r == image::k_docker_hub ? std::string(image::k_docker_hub_api_host) : r;
}

Result<std::pair<std::string, std::string>> parse_registry_certificate(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return fail(ErrorKind::invalid_argument,
                "--registry-certificate: expected REGISTRY=PATH, got '" + std::string(text) + "'");
  }
  return std::pair{canonical_registry(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Result<std::pair<std::string, ClientCert>> parse_registry_client_cert(std::string_view text) {
  auto eq = text.find('=');
  auto comma = text.find(',', eq == std::string_view::npos ? 0 : eq);
  if (eq == std::string_view::npos || eq == 0 || comma == std::string_view::npos || comma == eq + 1 ||
      comma + 1 == text.size()) {
    return fail(ErrorKind::invalid_argument,
                "--registry-client-cert: expected REGISTRY=CERT,KEY, got '" + std::string(text) + "'");
  }
  return std::pair{canonical_registry(text.substr(0, eq)),
                   ClientCert{std::string(text.substr(eq + 1, comma - eq - 1)), std::string(text.substr(comma + 1))}};
}

Result<std::pair<std::string, std::vector<std::string>>> parse_registry_map(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return fail(ErrorKind::invalid_argument,
                "--registry-map: expected ORIGINAL=MIRROR[;MIRROR...], got '" + std::string(text) + "'");
  }
  std::vector<std::string> mirrors;
  std::string_view rest = text.substr(eq + 1);
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view m = rest.substr(0, semi);
    if (!m.empty()) mirrors.push_back(strip_scheme(m));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  if (mirrors.empty()) {
    return fail(ErrorKind::invalid_argument, "--registry-map: no mirror in '" + std::string(text) + "'");
  }
  return std::pair{canonical_registry(text.substr(0, eq)), std::move(mirrors)};
}

transport::TlsConfig tls_for(const RegistryOptions& options, std::string_view registry, Purpose purpose) {
  transport::TlsConfig tls;
  bool skip = purpose == Purpose::push ? options.skip_tls_verify : options.skip_tls_verify_pull;
  tls.verify = !(skip || contains_registry(options.skip_tls_verify_registries, registry));
  if (auto it = find_registry(options.registry_certificates, registry); it != options.registry_certificates.end()) {
    tls.ca_file = it->second;
  }
  if (auto it = find_registry(options.registry_client_certs, registry); it != options.registry_client_certs.end()) {
    tls.client_cert_file = it->second.cert_file;
    tls.client_key_file = it->second.key_file;
  }
  return tls;
}

bool allows_plain_http(const RegistryOptions& options, std::string_view registry, Purpose purpose) {
  if (purpose == Purpose::push && options.insecure) return true;
  if (purpose == Purpose::pull && options.insecure_pull) return true;
  return contains_registry(options.insecure_registries, registry);
}

std::vector<PullSource> pull_sources(const RegistryOptions& options, std::string_view registry,
                                     std::string_view repository) {
  std::vector<PullSource> out;
  auto add_mirror = [&](const std::string& mirror) {
    std::string m = strip_scheme(mirror);
    PullSource source;
    source.mirror = true;
    source.repository = std::string(repository);
    if (auto slash = m.find('/'); slash != std::string::npos) {
      source.repository = m.substr(slash + 1) + "/" + source.repository;
      m.resize(slash);
    }
    source.registry = m;
    out.push_back(std::move(source));
  };
  if (auto it = find_registry(options.registry_maps, registry); it != options.registry_maps.end()) {
    for (const auto& m : it->second) add_mirror(m);
  }
  if (canonical_registry(registry) == image::k_docker_hub) {
    for (const auto& m : options.registry_mirrors) add_mirror(m);
  }
  if (out.empty() || !options.skip_default_registry_fallback) {
    out.push_back(PullSource{canonical_registry(registry), std::string(repository), false});
  }
  return out;
}

}  // namespace strata::registry
