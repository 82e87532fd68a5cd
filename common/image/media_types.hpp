// Media types of the manifests, configs and layers Strata reads and writes.
#pragma once

#include <string_view>

namespace strata::image::media {

inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_schema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view docker_schema1_signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_layer_foreign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view oci_layer_nondist_gzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view oci_layer_nondist = "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view oci_layer_nondist_zstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr std::string_view docker_layer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view docker_layer_zstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr std::string_view oci_empty = "application/vnd.oci.empty.v1+json";

// Layer media types an image may use (Strata can unpack them): tar, gzip, zstd, Docker's
// foreign layers and OCI's nondistributable ones.
inline constexpr bool is_layer(std::string_view t) {
  return t == docker_layer_gzip || t == docker_layer_foreign || t == docker_layer || t == docker_layer_zstd ||
         t == oci_layer || t == oci_layer_gzip || t == oci_layer_zstd || t == oci_layer_nondist ||
         t == oci_layer_nondist_gzip || t == oci_layer_nondist_zstd;
}
// Foreign / nondistributable layers: registries may not hold them; they are fetched from `urls`.
inline constexpr bool is_foreign_layer(std::string_view t) {
  return t == docker_layer_foreign || t == oci_layer_nondist || t == oci_layer_nondist_gzip ||
         t == oci_layer_nondist_zstd;
}
inline constexpr bool is_image_config(std::string_view t) { return t == docker_config || t == oci_config; }

// The Accept header for manifest requests: every manifest kind we understand (registries
// downgrade or 404 when a type is missing; see docs/registry.md).
inline constexpr std::string_view manifest_accept =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

}  // namespace strata::image::media
