// Builds small but real images straight into a cache dir, the way the warmer records them:
// blobs first (a tar layer, an image config, an OCI manifest per platform, optionally an OCI
// index), then the index records in one write session.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/media_types.hpp"
#include "store/cache_dir.hpp"

namespace strata::store::test {

// A one-file ustar archive.
inline std::string make_tar(const std::string& name, const std::string& content) {
  std::string h(512, '\0');
  auto put = [&](std::size_t off, const std::string& v) { h.replace(off, v.size(), v); };
  auto octal = [](std::uint64_t v, int width) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", width - 1, static_cast<unsigned long long>(v));
    return std::string(buf);
  };
  put(0, name);
  put(100, octal(0644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(content.size(), 12));
  put(136, octal(1'700'000'000, 12));
  put(148, std::string(8, ' '));
  h[156] = '0';
  put(257, "ustar");
  h[262] = '\0';
  put(263, "00");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  put(148, octal(sum, 7));
  h[155] = ' ';
  std::string out = h + content;
  out.resize((out.size() + 511) / 512 * 512, '\0');
  out.append(1024, '\0');
  return out;
}

struct SeededImage {
  std::string reference;
  digest::Digest top;
  std::vector<digest::Digest> manifests;
};

inline Result<SeededImage> seed_image(const CacheDir& cd, const std::string& reference,
                                      const std::vector<std::string>& platforms, bool through_index) {
  using nlohmann::ordered_json;
  const TimePoint now = cd.blobs().now();
  SeededImage out{reference, {}, {}};
  std::vector<ManifestRecord> manifests;
  std::vector<BlobRecord> blobs;
  std::vector<ImageRecord> images;
  ordered_json index_manifests = ordered_json::array();
  for (const auto& platform : platforms) {
    auto slash = platform.find('/');
    std::string os = platform.substr(0, slash), arch = platform.substr(slash + 1);
    auto layer = TRY(cd.blobs().put(make_tar("hello-" + arch, "hello from " + reference + " " + platform + "\n")));
    ordered_json cfg = {{"architecture", arch}, {"os", os},
                        {"config", {{"Cmd", {"/hello"}}}},
                        {"rootfs", {{"type", "layers"}, {"diff_ids", {layer.digest.str()}}}}};
    auto config = TRY(cd.blobs().put(cfg.dump()));
    ordered_json man = {
        {"schemaVersion", 2},
        {"mediaType", image::media::oci_manifest},
        {"config", {{"mediaType", image::media::oci_config}, {"digest", config.digest.str()}, {"size", config.size}}},
        {"layers", {{{"mediaType", image::media::oci_layer}, {"digest", layer.digest.str()}, {"size", layer.size}}}}};
    auto m = TRY(cd.blobs().put(man.dump()));
    out.manifests.push_back(m.digest);
    blobs.push_back({layer.digest, layer.size, std::string(image::media::oci_layer), now, now, 0});
    blobs.push_back({config.digest, config.size, std::string(image::media::oci_config), now, now, 0});
    blobs.push_back({m.digest, m.size, std::string(image::media::oci_manifest), now, now, 0});
    manifests.push_back({ManifestKind::image, m.digest, std::string(image::media::oci_manifest), m.size,
                         config.digest, {layer.digest}, {}, platform, now});
    ImageRecord r;
    r.reference = reference;
    r.platform = platform;
    r.manifest = m.digest;
    r.manifest_media_type = image::media::oci_manifest;
    r.manifest_size = m.size;
    r.fetched = r.last_used = now;
    r.total_size = m.size + config.size + layer.size;
    images.push_back(r);
    index_manifests.push_back({{"mediaType", image::media::oci_manifest},
                               {"digest", m.digest.str()},
                               {"size", m.size},
                               {"platform", {{"architecture", arch}, {"os", os}}}});
  }
  out.top = out.manifests.front();
  if (through_index) {
    ordered_json idx = {{"schemaVersion", 2}, {"mediaType", image::media::oci_index}, {"manifests", index_manifests}};
    auto i = TRY(cd.blobs().put(idx.dump()));
    out.top = i.digest;
    blobs.push_back({i.digest, i.size, std::string(image::media::oci_index), now, now, 0});
    manifests.push_back({ManifestKind::index, i.digest, std::string(image::media::oci_index), i.size, std::nullopt,
                         {}, out.manifests, "", now});
    for (auto& r : images) {
      r.index = i.digest;
      r.index_media_type = image::media::oci_index;
      r.index_size = i.size;
    }
  }
  auto w = TRY(cd.index().write());
  for (const auto& b : blobs) TRY(w.put_blob(b));
  for (const auto& m : manifests) TRY(w.put_manifest(m));
  for (const auto& r : images) TRY(w.put_image(r));
  TRY(w.commit());
  return out;
}

}  // namespace strata::store::test
