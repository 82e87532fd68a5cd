// Parsing a manifest body whose kind is not known in advance (a GET by tag may return any of
// the four). The kind is decided by the JSON "mediaType", else the Content-Type hint, else the
// shape ("manifests" ⇒ index, "layers"/"config" ⇒ manifest). Schema1 manifests are rejected with
// ErrorKind::unsupported.
#pragma once

#include <string_view>
#include <variant>

#include "image/index.hpp"
#include "image/manifest.hpp"
#include "util/result.hpp"

namespace strata::image {

enum class ManifestKind { docker_manifest, docker_manifest_list, oci_manifest, oci_index };

std::string_view to_string(ManifestKind kind);  // the media type

struct ParsedManifest {
  ManifestKind kind;
  std::variant<Manifest, Index> value;

  bool is_index() const { return kind == ManifestKind::docker_manifest_list || kind == ManifestKind::oci_index; }
  const Manifest* manifest() const { return std::get_if<Manifest>(&value); }
  const Index* index() const { return std::get_if<Index>(&value); }
};

// content_type_hint may carry parameters ("...; charset=utf-8") or be empty.
Result<ParsedManifest> parse_manifest_any(std::string_view bytes, std::string_view content_type_hint = {});

}  // namespace strata::image
