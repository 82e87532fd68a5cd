// Keys and values of the cache index (the schema is described in index_codec.cpp). Internal to
// store/: only index.cpp and its tests use it.
#pragma once

#include <string>
#include <string_view>

#include "store/records.hpp"
#include "util/result.hpp"

namespace strata::store::codec {

inline constexpr int k_schema_version = 1;

inline constexpr std::string_view k_schema_key = "meta/schema_version";
inline constexpr std::string_view k_image_prefix = "img/";
inline constexpr std::string_view k_manifest_prefix = "man/";
inline constexpr std::string_view k_blob_prefix = "blob/";
inline constexpr std::string_view k_layer_cache_prefix = "lc/";
inline constexpr std::string_view k_stat_prefix = "stat/";

std::string image_key(std::string_view reference, std::string_view platform);
std::string image_prefix(std::string_view reference);  // every platform of one reference
std::string manifest_key(const digest::Digest& d);
std::string blob_key(const digest::Digest& d);
std::string layer_cache_key(std::string_view key);
std::string stat_key(std::string_view tool, std::string_view name);

std::string encode(const ImageRecord& r);
std::string encode(const ManifestRecord& r);
std::string encode(const BlobRecord& r);
std::string encode(const LayerCacheRecord& r);
std::string encode_counter(std::uint64_t value);

// Decoders take the key too (it carries the identity) and fail with corrupt, naming the key.
Result<ImageRecord> decode_image(std::string_view key, std::string_view value);
Result<ManifestRecord> decode_manifest(std::string_view key, std::string_view value);
Result<BlobRecord> decode_blob(std::string_view key, std::string_view value);
Result<LayerCacheRecord> decode_layer_cache(std::string_view key, std::string_view value);
Result<StatCounter> decode_stat(std::string_view key, std::string_view value);
Result<int> decode_schema_version(std::string_view value);

}  // namespace strata::store::codec
