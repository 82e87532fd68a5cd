// The RocksDB key schema of the cache index (cache-dir/index/), version 1.
//
// One column family, keys are byte strings grouped by an ASCII prefix so that every record kind
// is a contiguous range (prefix scans list a kind; a reference's platforms are adjacent):
//
//   meta/schema_version               → "1"  (decimal; absent only in an empty database)
//   img/<reference> \0 <platform>     → ImageRecord JSON
//   man/<alg>:<hex>                   → ManifestRecord JSON (manifests and indexes)
//   blob/<alg>:<hex>                  → BlobRecord JSON
//   lc/<cache key>                    → LayerCacheRecord JSON
//   stat/<tool> \0 <counter>          → decimal uint64
//
// <reference> is the normalised reference ("docker.io/library/busybox:latest") and <platform>
// "os/arch[/variant]"; neither can contain NUL, which therefore separates them and sorts a
// reference's platforms right after its prefix. The identity of a record is in its key and is
// not repeated in the value. Values are compact JSON objects with short field names; times are
// Unix milliseconds; sizes and counters are unsigned integers; optional fields are omitted.
// Unknown fields are ignored when decoding, so adding a field does not need a new schema
// version; changing the meaning of a key or a field does (then older databases are rebuilt
// from the blobs by reindex, newer ones are refused).
//
//   img:  {"m":digest,"mt":media type,"ms":size,"i":digest,"it":media type,"is":size,
//          "f":fetched,"u":last used,"n":use count,"t":total size}
//   man:  {"k":"image"|"index","mt":media type,"s":size,"c":config digest,"l":[layer digests],
//          "m":[child digests],"p":platform,"a":added}
//   blob: {"s":size,"mt":media type,"a":added,"u":last used,"n":use count}
//   lc:   {"m":manifest digest,"l":layer digest,"d":diff_id,"st":step,"p":platform,
//          "c":created,"u":last used,"h":hits,"s":size}
#include "store/index_codec.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace strata::store::codec {

namespace {

using nlohmann::json;

Error bad(std::string_view key, std::string_view why) {
  return Error(ErrorKind::corrupt, "cache index record '" + std::string(key) + "': " + std::string(why));
}

Result<json> parse(std::string_view key, std::string_view value) {
  json j = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail(bad(key, "value is not a JSON object"));
  return j;
}

Result<digest::Digest> get_digest(const json& j, const char* field, std::string_view key) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return fail(bad(key, std::string("missing digest field ") + field));
  auto d = digest::Digest::parse(it->get_ref<const std::string&>());
  if (!d) return fail(bad(key, d.error().message()));
  return *d;
}

std::string get_string(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::uint64_t get_u64(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

TimePoint get_time(const json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_number_integer() ? from_unix_ms(it->get<std::int64_t>()) : TimePoint{};
}

Result<std::vector<digest::Digest>> get_digests(const json& j, const char* field, std::string_view key) {
  std::vector<digest::Digest> out;
  auto it = j.find(field);
  if (it == j.end()) return out;
  if (!it->is_array()) return fail(bad(key, std::string(field) + " is not an array"));
  for (const auto& e : *it) {
    if (!e.is_string()) return fail(bad(key, std::string(field) + " holds a non-string"));
    auto d = digest::Digest::parse(e.get_ref<const std::string&>());
    if (!d) return fail(bad(key, d.error().message()));
    out.push_back(std::move(*d));
  }
  return out;
}

Result<digest::Digest> digest_from_key(std::string_view key, std::string_view prefix) {
  auto d = digest::Digest::parse(key.substr(prefix.size()));
  if (!d) return fail(bad(key, "key does not end in a digest"));
  return *d;
}

json digests(const std::vector<digest::Digest>& ds) {
  json a = json::array();
  for (const auto& d : ds) a.push_back(d.str());
  return a;
}

// Splits "<prefix><a>\0<b>".
Result<std::pair<std::string, std::string>> split_pair(std::string_view key, std::string_view prefix) {
  std::string_view rest = key.substr(prefix.size());
  auto nul = rest.find('\0');
  if (nul == std::string_view::npos) return fail(bad(key, "key lacks its NUL separator"));
  return std::pair{std::string(rest.substr(0, nul)), std::string(rest.substr(nul + 1))};
}

}  // namespace

std::string image_key(std::string_view reference, std::string_view platform) {
  std::string k = image_prefix(reference);
  k += platform;
  return k;
}
std::string image_prefix(std::string_view reference) {
  std::string k(k_image_prefix);
  k += reference;
  k += '\0';
  return k;
}
std::string manifest_key(const digest::Digest& d) { return std::string(k_manifest_prefix) + d.str(); }
std::string blob_key(const digest::Digest& d) { return std::string(k_blob_prefix) + d.str(); }
std::string layer_cache_key(std::string_view key) { return std::string(k_layer_cache_prefix) + std::string(key); }
std::string stat_key(std::string_view tool, std::string_view name) {
  std::string k(k_stat_prefix);
  k += tool;
  k += '\0';
  k += name;
  return k;
}

std::string encode(const ImageRecord& r) {
  json j = {{"m", r.manifest.str()}, {"mt", r.manifest_media_type}, {"ms", r.manifest_size}};
  if (r.index) {
    j["i"] = r.index->str();
    j["it"] = r.index_media_type;
    j["is"] = r.index_size;
  }
  j["f"] = to_unix_ms(r.fetched);
  j["u"] = to_unix_ms(r.last_used);
  j["n"] = r.use_count;
  j["t"] = r.total_size;
  return j.dump();
}

std::string encode(const ManifestRecord& r) {
  json j = {{"k", r.kind == ManifestKind::index ? "index" : "image"}, {"mt", r.media_type}, {"s", r.size}};
  if (r.config) j["c"] = r.config->str();
  if (!r.layers.empty()) j["l"] = digests(r.layers);
  if (!r.manifests.empty()) j["m"] = digests(r.manifests);
  if (!r.platform.empty()) j["p"] = r.platform;
  j["a"] = to_unix_ms(r.added);
  return j.dump();
}

std::string encode(const BlobRecord& r) {
  json j = {{"s", r.size}};
  if (!r.media_type.empty()) j["mt"] = r.media_type;
  j["a"] = to_unix_ms(r.added);
  j["u"] = to_unix_ms(r.last_used);
  j["n"] = r.use_count;
  return j.dump();
}

std::string encode(const LayerCacheRecord& r) {
  json j = {{"m", r.manifest.str()}, {"l", r.layer.str()}, {"d", r.diff_id.str()}, {"st", r.step},
            {"p", r.platform},       {"c", to_unix_ms(r.created)}, {"u", to_unix_ms(r.last_used)},
            {"h", r.hits},           {"s", r.size}};
  return j.dump();
}

std::string encode_counter(std::uint64_t value) { return std::to_string(value); }

Result<ImageRecord> decode_image(std::string_view key, std::string_view value) {
  auto [ref, platform] = TRY(split_pair(key, k_image_prefix));
  json j = TRY(parse(key, value));
  ImageRecord r;
  r.reference = std::move(ref);
  r.platform = std::move(platform);
  r.manifest = TRY(get_digest(j, "m", key));
  r.manifest_media_type = get_string(j, "mt");
  r.manifest_size = get_u64(j, "ms");
  if (j.contains("i")) {
    r.index = TRY(get_digest(j, "i", key));
    r.index_media_type = get_string(j, "it");
    r.index_size = get_u64(j, "is");
  }
  r.fetched = get_time(j, "f");
  r.last_used = get_time(j, "u");
  r.use_count = get_u64(j, "n");
  r.total_size = get_u64(j, "t");
  return r;
}

Result<ManifestRecord> decode_manifest(std::string_view key, std::string_view value) {
  json j = TRY(parse(key, value));
  ManifestRecord r;
  r.digest = TRY(digest_from_key(key, k_manifest_prefix));
  std::string kind = get_string(j, "k");
  if (kind == "index") r.kind = ManifestKind::index;
  else if (kind == "image") r.kind = ManifestKind::image;
  else return fail(bad(key, "unknown manifest kind '" + kind + "'"));
  r.media_type = get_string(j, "mt");
  r.size = get_u64(j, "s");
  if (j.contains("c")) r.config = TRY(get_digest(j, "c", key));
  r.layers = TRY(get_digests(j, "l", key));
  r.manifests = TRY(get_digests(j, "m", key));
  r.platform = get_string(j, "p");
  r.added = get_time(j, "a");
  return r;
}

Result<BlobRecord> decode_blob(std::string_view key, std::string_view value) {
  json j = TRY(parse(key, value));
  BlobRecord r;
  r.digest = TRY(digest_from_key(key, k_blob_prefix));
  r.size = get_u64(j, "s");
  r.media_type = get_string(j, "mt");
  r.added = get_time(j, "a");
  r.last_used = get_time(j, "u");
  r.use_count = get_u64(j, "n");
  return r;
}

Result<LayerCacheRecord> decode_layer_cache(std::string_view key, std::string_view value) {
  json j = TRY(parse(key, value));
  LayerCacheRecord r;
  r.key = std::string(key.substr(k_layer_cache_prefix.size()));
  r.manifest = TRY(get_digest(j, "m", key));
  r.layer = TRY(get_digest(j, "l", key));
  r.diff_id = TRY(get_digest(j, "d", key));
  r.step = get_string(j, "st");
  r.platform = get_string(j, "p");
  r.created = get_time(j, "c");
  r.last_used = get_time(j, "u");
  r.hits = get_u64(j, "h");
  r.size = get_u64(j, "s");
  return r;
}

Result<StatCounter> decode_stat(std::string_view key, std::string_view value) {
  auto [tool, name] = TRY(split_pair(key, k_stat_prefix));
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size()) return fail(bad(key, "counter is not a number"));
  return StatCounter{std::move(tool), std::move(name), v};
}

Result<int> decode_schema_version(std::string_view value) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size() || v <= 0)
    return fail(bad(k_schema_key, "schema version '" + std::string(value) + "' is not a positive number"));
  return v;
}

}  // namespace strata::store::codec
