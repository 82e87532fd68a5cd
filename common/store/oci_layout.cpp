#include "store/oci_layout.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "image/media_types.hpp"
#include "store/file_ops.hpp"

namespace strata::store {

namespace {

using nlohmann::ordered_json;

ordered_json platform_json(std::string_view platform) {
  // "os/arch[/variant]"
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto slash = platform.find('/', start);
    parts.emplace_back(platform.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  ordered_json p;
  if (parts.size() >= 2) {
    p["architecture"] = parts[1];
    p["os"] = parts[0];
    if (parts.size() >= 3) p["variant"] = parts[2];
  }
  return p;
}

std::string platform_string(const nlohmann::json& p) {
  if (!p.is_object()) return {};
  auto str = [&](const char* k) {
    auto it = p.find(k);
    return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string os = str("os"), arch = str("architecture"), variant = str("variant");
  if (os.empty() || arch.empty()) return {};
  return variant.empty() ? os + "/" + arch : os + "/" + arch + "/" + variant;
}

}  // namespace

Result<void> ensure_oci_layout(const std::string& root) {
  const std::string path = root + "/oci-layout";
  if (::access(path.c_str(), F_OK) == 0) return {};
  return write_file_atomic(path, R"({"imageLayoutVersion":"1.0.0"})");
}

std::vector<LayoutEntry> layout_entries(const std::vector<ImageRecord>& images) {
  std::map<std::string, const ImageRecord*> newest;
  for (const auto& r : images) {
    auto& slot = newest[r.reference];
    if (!slot || r.fetched > slot->fetched || (r.fetched == slot->fetched && r.platform < slot->platform)) slot = &r;
  }
  std::vector<LayoutEntry> out;
  for (const auto& [ref, r] : newest)
    out.push_back({ref, r->top_digest(), r->top_media_type(), r->top_size(), r->index ? std::string() : r->platform});
  return out;
}

Result<void> write_index_json(const std::string& root, const std::vector<ImageRecord>& images) {
  ordered_json manifests = ordered_json::array();
  for (const auto& e : layout_entries(images)) {
    ordered_json d;
    d["mediaType"] = e.media_type;
    d["digest"] = e.digest.str();
    d["size"] = e.size;
    d["annotations"] = {{std::string(k_ref_name_annotation), e.ref_name}};
    if (!e.platform.empty()) {
      auto p = platform_json(e.platform);
      if (!p.empty()) d["platform"] = std::move(p);
    }
    manifests.push_back(std::move(d));
  }
  ordered_json index;
  index["schemaVersion"] = 2;
  index["mediaType"] = image::media::oci_index;
  index["manifests"] = std::move(manifests);
  TRY(ensure_oci_layout(root));
  return write_file_atomic(root + "/index.json", index.dump());
}

Result<std::vector<LayoutEntry>> read_index_json(const std::string& root) {
  const std::string path = root + "/index.json";
  std::string text = TRY(read_file(path, 64u << 20));
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail(ErrorKind::corrupt, path + ": not a JSON object");
  std::vector<LayoutEntry> out;
  auto ms = j.find("manifests");
  if (ms == j.end()) return out;
  if (!ms->is_array()) return fail(ErrorKind::corrupt, path + ": manifests is not an array");
  for (const auto& d : *ms) {
    if (!d.is_object()) return fail(ErrorKind::corrupt, path + ": a descriptor is not an object");
    LayoutEntry e;
    auto dg = d.find("digest");
    if (dg == d.end() || !dg->is_string()) return fail(ErrorKind::corrupt, path + ": descriptor without digest");
    auto parsed = digest::Digest::parse(dg->get<std::string>());
    if (!parsed) return fail(parsed.error().with_context(path));
    e.digest = *parsed;
    if (auto mt = d.find("mediaType"); mt != d.end() && mt->is_string()) e.media_type = mt->get<std::string>();
    if (auto sz = d.find("size"); sz != d.end() && sz->is_number_unsigned()) e.size = sz->get<std::uint64_t>();
    if (auto an = d.find("annotations"); an != d.end() && an->is_object()) {
      auto rn = an->find(k_ref_name_annotation);
      if (rn != an->end() && rn->is_string()) e.ref_name = rn->get<std::string>();
    }
    if (auto p = d.find("platform"); p != d.end()) e.platform = platform_string(*p);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace strata::store
