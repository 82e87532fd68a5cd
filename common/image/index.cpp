#include "image/index.hpp"

#include "image/json_util.hpp"
#include "image/manifest_any.hpp"
#include "image/media_types.hpp"

namespace strata::image {

Result<Index> Index::parse(std::string_view bytes, std::string_view content_type) {
  ParsedManifest parsed = TRY(parse_manifest_any(bytes, content_type));
  if (!parsed.is_index()) {
    return fail(ErrorKind::invalid_argument,
                "manifest: expected an index, got an image manifest (" + std::string(to_string(parsed.kind)) + ")");
  }
  return std::get<Index>(std::move(parsed.value));
}

bool Index::is_docker() const { return media_type == media::docker_manifest_list; }

std::string Index::serialize() const {
  using json_util::DescriptorStyle;
  auto style = is_docker() ? DescriptorStyle::docker : DescriptorStyle::oci;
  json_util::OrderedJson j = json_util::OrderedJson::object();
  j["schemaVersion"] = schema_version;
  j["mediaType"] = media_type.empty() ? std::string(media::oci_index) : media_type;
  if (!artifact_type.empty() && style == DescriptorStyle::oci) j["artifactType"] = artifact_type;
  j["manifests"] = json_util::OrderedJson::array();
  for (const auto& m : manifests) j["manifests"].push_back(json_util::descriptor_to_json(m, style));
  if (style == DescriptorStyle::oci) {
    if (subject) j["subject"] = json_util::descriptor_to_json(*subject, style);
    if (!annotations.empty()) j["annotations"] = annotations;
  }
  return json_util::go_dump(j);
}

Result<Descriptor> select_platform(const Index& index, const Platform& wanted) {
  const Descriptor* best = nullptr;
  int best_rank = -1;
  std::string available;
  for (const auto& entry : index.manifests) {
    if (!entry.platform) continue;
    // BuildKit's attestation manifests carry "unknown/unknown"; listing them only confuses.
    if (entry.platform->os != "unknown") {
      if (!available.empty()) available += ", ";
      available += entry.platform->str();
    }
    int rank = match_rank(wanted, *entry.platform);
    if (rank >= 0 && (best == nullptr || rank < best_rank)) {
      best = &entry;
      best_rank = rank;
    }
  }
  if (best == nullptr) {
    return fail(ErrorKind::not_found, "no image for " + wanted.str() + " in index; available: " +
                                          (available.empty() ? std::string("none") : available));
  }
  return *best;
}

}  // namespace strata::image
