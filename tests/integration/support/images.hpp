// Test images and outside inspection: seed a registry with the busybox base image made by
// tests/make-base-image.py (no download: busybox-static from the host), look at what our tools
// pushed with skopeo, and unpack OCI layouts with umoci.
//
// Every helper passes the registry's TLS and credential settings to skopeo (--cert-dir/--creds,
// --tls-verify=false for plain HTTP) and an empty auth file, so host credentials never leak in.
// Thread safety: the image cache below is guarded by a mutex; everything else is stateless.
#pragma once

#include <string>
#include <vector>

#include "integration/support/registry_server.hpp"
#include "nlohmann/json.hpp"
#include "util/result.hpp"

namespace strata::itest {

enum class ManifestFormat { oci, docker_v2s2 };
enum class Platforms { single, multi_arch };  // multi_arch: index of linux/amd64 + linux/arm64/v8

struct BaseImageOptions {
  ManifestFormat format = ManifestFormat::oci;
  Platforms platforms = Platforms::single;
  int extra_layers = 0;  // small layers on top of busybox, each adding /layer-N.txt
};

// Builds (once per process and option set, cached) the OCI layout of the base image and returns
// its directory; the image is tagged "latest" in it. Errors: not_found (python3, busybox), internal.
Result<std::string> base_image_layout(const BaseImageOptions& options = {});

// Pushes the base image to `registry` as repo_tag ("library/busybox:latest") and returns the
// pushed manifest (or index) digest "sha256:...". Errors: internal with skopeo's output.
Result<std::string> seed_base_image(const RegistryServer& registry, const std::string& repo_tag,
                                    const BaseImageOptions& options = {});

// skopeo flags to reach `registry` as source ("--src-...") or destination ("--dest-...") or, with
// an empty prefix, for inspect/delete ("--tls-verify", "--cert-dir", "--creds").
std::vector<std::string> skopeo_flags(const RegistryServer& registry, const std::string& prefix);

// Runs `skopeo ARGS...` with REGISTRY_AUTH_FILE pointing at an empty auth file (and no
// registries.conf), so neither host credentials nor mirrors interfere. A non-zero exit is not an
// error: check exit_code (and err for the reason).
Result<RunResult> run_skopeo(const std::vector<std::string>& args);

enum class InspectWhat { summary, raw_manifest, config };
// `skopeo inspect [--raw|--config] docker://HOST/repo_ref` parsed. repo_ref is "repo:tag" or
// "repo@sha256:...". Errors: not_found when skopeo says the manifest is unknown, internal else.
Result<nlohmann::json> skopeo_inspect(const RegistryServer& registry, const std::string& repo_ref,
                                      InspectWhat what = InspectWhat::summary);

// `skopeo copy [--all] docker://HOST/repo_ref oci:layout:tag`: pulls an image for unpacking.
Result<void> skopeo_copy_to_layout(const RegistryServer& registry, const std::string& repo_ref,
                                   const std::string& layout, const std::string& tag);

// `umoci unpack --image layout:tag bundle` (as root; rootfs in bundle/rootfs). bundle must not exist.
Result<void> umoci_unpack(const std::string& layout, const std::string& tag,
                          const std::string& bundle);

}  // namespace strata::itest
