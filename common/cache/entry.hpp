// A layer-cache entry as stored in a cache repo and in the cache dir: a small OCI image whose
// single layer is the step's layer and whose config is a JSON document describing the entry:
//
//   {"strataLayerCache":1,"key":"<hex>","step":"RUN make","kind":"run",
//    "created":"2024-05-01T12:00:00.123Z","platform":"linux/amd64","diffID":"sha256:..",
//    "layerMediaType":"...","inputs":{"files":"..","var:VERSION":"arg:.."}}
//
// with config media type k_entry_config_media_type. In a registry the manifest is tagged with the
// key; in an OCI layout it is an index.json entry whose ref.name annotation is the key.
//
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cache/cache_key.hpp"
#include "digest/digest.hpp"
#include "image/descriptor.hpp"
#include "image/manifest.hpp"
#include "store/clock.hpp"
#include "util/result.hpp"

namespace strata::cache {

inline constexpr std::string_view k_entry_config_media_type = "application/vnd.strata.layer-cache.config.v1+json";

struct EntryConfig {
  std::string key;
  std::string step;  // display text of the step
  StepKind kind = StepKind::run;
  store::TimePoint created{};
  std::string platform;
  digest::Digest diff_id;
  std::string layer_media_type;
  InputsSummary inputs;
};

std::string serialize_entry_config(const EntryConfig& config);
// Errors: corrupt (not JSON, missing/invalid fields, not a strata layer-cache config).
Result<EntryConfig> parse_entry_config(std::string_view bytes);

// The layer a step produced (or an entry holds): as it goes into a manifest, plus its diff_id and
// the file holding it. The same fields as build::LayerBlob.
struct LayerFile {
  image::Descriptor descriptor;
  digest::Digest diff_id;
  std::string path;
};

// The serialised entry image minus its layer bytes.
struct EntryImage {
  EntryConfig config;
  std::string config_bytes;
  digest::Digest config_digest;
  std::string manifest_bytes;
  digest::Digest manifest_digest;
  image::Descriptor layer;
};

// Builds the config and OCI manifest for a step key and its layer.
EntryImage make_entry_image(const StepKey& key, const image::Descriptor& layer, const digest::Digest& diff_id,
                            store::TimePoint created);
// Parses manifest + config bytes of an entry (from a registry or layout) and checks they agree:
// one layer, the config digest matches, the config is ours. Errors: corrupt.
Result<EntryImage> parse_entry_image(std::string manifest_bytes, std::string config_bytes);

// RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.123Z") and back (also accepts no
// fraction and numeric offsets). Errors: invalid_argument.
std::string format_time(store::TimePoint t);
Result<store::TimePoint> parse_time(std::string_view text);

}  // namespace strata::cache
