#include "image/manifest.hpp"

#include "image/json_util.hpp"
#include "image/manifest_any.hpp"
#include "image/media_types.hpp"

namespace strata::image {

Result<Manifest> Manifest::parse(std::string_view bytes, std::string_view content_type) {
  ParsedManifest parsed = TRY(parse_manifest_any(bytes, content_type));
  if (parsed.is_index()) {
    return fail(ErrorKind::invalid_argument,
                "manifest: expected an image manifest, got an index (" + std::string(to_string(parsed.kind)) + ")");
  }
  return std::get<Manifest>(std::move(parsed.value));
}

bool Manifest::is_docker() const { return media_type == media::docker_manifest; }

bool Manifest::is_image() const { return media::is_image_config(config.media_type); }

std::int64_t Manifest::total_size() const {
  std::int64_t total = config.size;
  for (const auto& layer : layers) total += layer.size;
  return total;
}

std::string Manifest::serialize() const {
  using json_util::DescriptorStyle;
  auto style = is_docker() ? DescriptorStyle::docker : DescriptorStyle::oci;
  json_util::OrderedJson j = json_util::OrderedJson::object();
  j["schemaVersion"] = schema_version;
  j["mediaType"] = media_type.empty() ? std::string(media::oci_manifest) : media_type;
  if (!artifact_type.empty() && style == DescriptorStyle::oci) j["artifactType"] = artifact_type;
  j["config"] = json_util::descriptor_to_json(config, style);
  j["layers"] = json_util::OrderedJson::array();
  for (const auto& layer : layers) j["layers"].push_back(json_util::descriptor_to_json(layer, style));
  if (style == DescriptorStyle::oci) {
    if (subject) j["subject"] = json_util::descriptor_to_json(*subject, style);
    if (!annotations.empty()) j["annotations"] = annotations;
  }
  return json_util::go_dump(j);
}

}  // namespace strata::image
