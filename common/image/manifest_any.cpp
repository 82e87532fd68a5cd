// Kind detection and parsing for the four manifest kinds. Registries and other tools disagree
// on which signal is present (Docker schema2 always carries "mediaType"; OCI manifests written
// before image-spec 1.0.2 often do not; Content-Type may be generic "application/json"), so the
// body's mediaType wins, the Content-Type comes second, and the document's shape decides last.
#include "image/manifest_any.hpp"

#include <algorithm>
#include <cctype>

#include "image/json_util.hpp"
#include "image/media_types.hpp"

namespace strata::image {
namespace {

using json_util::Json;

constexpr std::string_view k_schema1_message =
    "schema1 manifests are not supported (deprecated by Docker in 2019); re-push the image with a current client";

std::string bare_content_type(std::string_view hint) {
  auto semi = hint.find(';');
  if (semi != std::string_view::npos) hint = hint.substr(0, semi);
  while (!hint.empty() && std::isspace(static_cast<unsigned char>(hint.front()))) hint.remove_prefix(1);
  while (!hint.empty() && std::isspace(static_cast<unsigned char>(hint.back()))) hint.remove_suffix(1);
  std::string out(hint);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_schema1(std::string_view t) { return t == media::docker_schema1 || t == media::docker_schema1_signed; }

std::optional<ManifestKind> kind_of(std::string_view t) {
  if (t == media::docker_manifest) return ManifestKind::docker_manifest;
  if (t == media::docker_manifest_list) return ManifestKind::docker_manifest_list;
  if (t == media::oci_manifest) return ManifestKind::oci_manifest;
  if (t == media::oci_index) return ManifestKind::oci_index;
  return std::nullopt;
}

Result<std::vector<Descriptor>> descriptor_array(const Json& doc, const char* key, bool required) {
  std::vector<Descriptor> out;
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) {
    if (required) return fail(ErrorKind::corrupt, std::string("field '") + key + "' is missing");
    return out;
  }
  if (!it->is_array()) return fail(ErrorKind::corrupt, std::string("field '") + key + "' must be an array");
  out.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    Descriptor d = TRY(json_util::descriptor_from_json((*it)[i], where));
    if (d.media_type.empty()) return fail(ErrorKind::corrupt, "field '" + where + ".mediaType' is missing");
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::optional<Descriptor>> optional_descriptor(const Json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return std::optional<Descriptor>();
  return std::optional<Descriptor>(TRY(json_util::descriptor_from_json(*it, key)));
}

Result<Manifest> parse_manifest_body(const Json& doc, ManifestKind kind) {
  Manifest m;
  m.media_type = std::string(to_string(kind));
  m.artifact_type = TRY(json_util::get_string(doc, "artifactType", ""));
  auto config = doc.find("config");
  if (config == doc.end() || config->is_null()) return fail(ErrorKind::corrupt, "field 'config' is missing");
  m.config = TRY(json_util::descriptor_from_json(*config, "config"));
  if (m.config.media_type.empty()) return fail(ErrorKind::corrupt, "field 'config.mediaType' is missing");
  m.layers = TRY(descriptor_array(doc, "layers", kind == ManifestKind::docker_manifest));
  m.subject = TRY(optional_descriptor(doc, "subject"));
  m.annotations = TRY(json_util::get_string_map(doc, "annotations", ""));

  if (kind == ManifestKind::docker_manifest && !media::is_image_config(m.config.media_type)) {
    return fail(ErrorKind::unsupported, "config media type '" + m.config.media_type +
                                            "' is not an image config");
  }
  if (m.is_image()) {
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
      if (!media::is_layer(m.layers[i].media_type)) {
        return fail(ErrorKind::unsupported, "layers[" + std::to_string(i) + "] has unsupported media type '" +
                                                m.layers[i].media_type + "'");
      }
    }
  }
  return m;
}

Result<Index> parse_index_body(const Json& doc, ManifestKind kind) {
  Index index;
  index.media_type = std::string(to_string(kind));
  index.artifact_type = TRY(json_util::get_string(doc, "artifactType", ""));
  index.manifests = TRY(descriptor_array(doc, "manifests", true));
  index.subject = TRY(optional_descriptor(doc, "subject"));
  index.annotations = TRY(json_util::get_string_map(doc, "annotations", ""));
  return index;
}

Result<ParsedManifest> parse_any(std::string_view bytes, std::string_view content_type_hint) {
  Json doc = TRY(json_util::parse_bounded(bytes, "invalid JSON"));
  if (!doc.is_object()) return fail(ErrorKind::corrupt, "expected a JSON object");

  std::string media_type = TRY(json_util::get_string(doc, "mediaType", ""));
  std::string hint = bare_content_type(content_type_hint);
  auto version_it = doc.find("schemaVersion");
  bool version_one = version_it != doc.end() && version_it->is_number_integer() && *version_it == 1;
  if (version_one || is_schema1(media_type) || (media_type.empty() && is_schema1(hint))) {
    return fail(ErrorKind::unsupported, std::string(k_schema1_message));
  }
  if (version_it == doc.end()) return fail(ErrorKind::corrupt, "field 'schemaVersion' is missing");
  if (!version_it->is_number_integer() || *version_it != 2) {
    return fail(ErrorKind::unsupported, "schemaVersion " + version_it->dump() + " is not supported (expected 2)");
  }

  std::optional<ManifestKind> kind;
  if (!media_type.empty()) {
    kind = kind_of(media_type);
    if (!kind) return fail(ErrorKind::unsupported, "unsupported manifest media type '" + media_type + "'");
  } else if (auto from_hint = kind_of(hint)) {
    kind = from_hint;
  } else if (doc.contains("manifests")) {
    kind = ManifestKind::oci_index;
  } else if (doc.contains("layers") || doc.contains("config")) {
    kind = ManifestKind::oci_manifest;
  } else {
    return fail(ErrorKind::corrupt, "cannot tell the manifest kind: no mediaType, no 'manifests' or 'layers'");
  }

  bool index_kind = *kind == ManifestKind::docker_manifest_list || *kind == ManifestKind::oci_index;
  if (index_kind) return ParsedManifest{*kind, TRY(parse_index_body(doc, *kind))};
  return ParsedManifest{*kind, TRY(parse_manifest_body(doc, *kind))};
}

}  // namespace

std::string_view to_string(ManifestKind kind) {
  switch (kind) {
    case ManifestKind::docker_manifest: return media::docker_manifest;
    case ManifestKind::docker_manifest_list: return media::docker_manifest_list;
    case ManifestKind::oci_manifest: return media::oci_manifest;
    case ManifestKind::oci_index: return media::oci_index;
  }
  return "unknown";
}

Result<ParsedManifest> parse_manifest_any(std::string_view bytes, std::string_view content_type_hint) {
  auto parsed = parse_any(bytes, content_type_hint);
  if (!parsed) return fail(parsed.error().with_context("manifest"));
  return parsed;
}

}  // namespace strata::image
