// The typed records of the cache index (see index_codec.cpp for how they are stored).
//
// Digests are validated values; times are wall-clock (store::TimePoint, kept to the
// millisecond). Platforms are the "os/arch[/variant]" strings of image::Platform::str(), so that
// the store does not depend on how platforms are matched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "digest/digest.hpp"
#include "store/clock.hpp"

namespace strata::store {

// One (reference, platform) a tool resolved: the manifest for that platform and, when the
// reference resolved through an index / manifest list, that index.
struct ImageRecord {
  std::string reference;  // normalised, image::Reference::str(): "docker.io/library/busybox:latest"
  std::string platform;   // "linux/amd64"
  digest::Digest manifest;
  std::string manifest_media_type;
  std::uint64_t manifest_size = 0;
  std::optional<digest::Digest> index;  // set when resolved through an index
  std::string index_media_type;
  std::uint64_t index_size = 0;
  TimePoint fetched{};
  TimePoint last_used{};
  std::uint64_t use_count = 0;
  std::uint64_t total_size = 0;  // manifest + config + layers, bytes

  // The descriptor that names the whole image (index when present, else the manifest).
  const digest::Digest& top_digest() const { return index ? *index : manifest; }
  const std::string& top_media_type() const { return index ? index_media_type : manifest_media_type; }
  std::uint64_t top_size() const { return index ? index_size : manifest_size; }
};

enum class ManifestKind { image, index };

// A manifest or an index held in the blob store, and what it references.
struct ManifestRecord {
  ManifestKind kind = ManifestKind::image;
  digest::Digest digest;
  std::string media_type;
  std::uint64_t size = 0;
  std::optional<digest::Digest> config;     // image manifests
  std::vector<digest::Digest> layers;       // image manifests
  std::vector<digest::Digest> manifests;    // indexes: the children (present or not)
  std::string platform;                     // image manifests, when known
  TimePoint added{};

  // config + layers + children: what a prune must keep while this manifest is kept.
  std::vector<digest::Digest> references() const;
};

struct BlobRecord {
  digest::Digest digest;
  std::uint64_t size = 0;
  std::string media_type;  // "" when unknown (e.g. after reindex of an unreferenced blob)
  TimePoint added{};
  TimePoint last_used{};
  std::uint64_t use_count = 0;
};

// The executor's layer cache: one RUN/COPY step's result, stored as a small image (manifest
// digest) whose single layer is `layer`.
struct LayerCacheRecord {
  std::string key;  // the cache key (hex of the step's cache-key hash)
  digest::Digest manifest;
  digest::Digest layer;
  digest::Digest diff_id;
  std::string step;  // the Dockerfile step text, for humans (cachectl ls)
  std::string platform;
  TimePoint created{};
  TimePoint last_used{};
  std::uint64_t hits = 0;
  std::uint64_t size = 0;
};

// Per-tool counters for `cachectl stats`: ("warmer", "bytes_fetched"), ("executor", "hits").
struct StatCounter {
  std::string tool;
  std::string name;
  std::uint64_t value = 0;
};

}  // namespace strata::store
