// Where a built image goes: registries (--destination), a docker-archive tarball (--tar-path), an
// OCI image layout (--oci-layout-path) and the digest files kaniko writes
// (--digest-file, --image-name-with-digest-file, --image-name-tag-with-digest-file).
//
// Push order per repository: layers (in parallel; a blob the registry already has is skipped, one
// in the base image's repository on the same registry is mounted across repositories), then the
// config, then the manifest once per tag. Layers stream from their blob files, never through
// memory.
//
// docker-archive layout (what `docker save` / go-containerregistry's tarball write and `docker
// load` / `skopeo inspect docker-archive:` read): manifest.json = [{Config, RepoTags, Layers}],
// the config as <hex>.json and each layer blob, still compressed, as <hex>.tar.gz|.tar.zst|.tar
// (readers detect compression; the config's diff_ids name the uncompressed tars).
//
// OCI layout: oci-layout, blobs/sha256/*, index.json with one manifest descriptor per ref name
// (annotation org.opencontainers.image.ref.name, e.g. the destination's tag); entries already in
// an existing index.json under other names are kept.
//
// Errors: those of the registry client, io/no_space for files. Files become visible complete
// (temp file + rename). Thread safety: each call is independent; push uses its own threads.
#pragma once

#include <string>
#include <vector>

#include "build/image_assembly.hpp"
#include "image/reference.hpp"
#include "registry/client.hpp"
#include "util/result.hpp"

namespace strata::build {

struct PushOptions {
  int parallel_uploads = 3;
};

// Pushes to every destination. Returns the manifest digest the registries acknowledged.
Result<digest::Digest> push_image(registry::Client& client, const AssembledImage& image,
                                  const std::vector<image::Reference>& destinations, const PushOptions& options = {});

Result<void> write_docker_archive(const std::string& path, const AssembledImage& image,
                                  const std::vector<std::string>& repo_tags);

Result<void> write_oci_layout(const std::string& dir, const AssembledImage& image,
                              const std::vector<std::string>& ref_names);

struct DigestFiles {
  std::string digest_file;                      // the manifest digest
  std::string image_name_with_digest_file;      // "REPO@sha256:..." per destination
  std::string image_name_tag_with_digest_file;  // "REPO:TAG@sha256:..." per destination
};
Result<void> write_digest_files(const DigestFiles& files, const digest::Digest& manifest_digest,
                                const std::vector<image::Reference>& destinations);

}  // namespace strata::build
