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
// from the blobs by reindex, newer ones are refused). Values are written with nlohmann::json and
// read with record_reader.hpp, which visits the fields without building a document (cachectl
// reads every record of the index on each ls, du and prune).
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
#include <optional>

#include <nlohmann/json.hpp>

#include "store/record_reader.hpp"

namespace strata::store::codec {

namespace {

using nlohmann::json;

Error bad(std::string_view key, std::string_view why) {
  return Error(ErrorKind::corrupt, "cache index record '" + std::string(key) + "': " + std::string(why));
}

// Compact JSON; bytes that are not UTF-8 (a step's text may hold any) become U+FFFD instead of
// throwing.
std::string compact(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Error not_an_object(std::string_view key) { return bad(key, "value is not a JSON object"); }

// Field readers with the lenient typing the codec has always had: a field of the wrong type
// reads as empty, 0 or the epoch, except digests, which must be strings that parse.
std::string text(const FieldValue& v) { return v.is_string() ? std::string(v.text) : std::string(); }
std::uint64_t u64(const FieldValue& v) { return v.is_unsigned() ? v.number : 0; }
TimePoint time(const FieldValue& v) { return v.is_integer() ? from_unix_ms(v.as_int64()) : TimePoint{}; }

struct DigestField {
  bool seen = false;
  std::optional<Result<digest::Digest>> parsed;  // nullopt: not a string

  void set(const FieldValue& v) {
    seen = true;
    parsed.reset();
    if (v.is_string()) parsed = digest::Digest::parse(v.text);
  }
  Result<digest::Digest> get(std::string_view key, const char* field) const {
    if (!parsed) return fail(bad(key, std::string("missing digest field ") + field));
    if (!*parsed) return fail(bad(key, parsed->error().message()));
    return **parsed;
  }
};

struct DigestsField {
  bool valid = true;
  std::vector<std::string> items;

  void set(const FieldValue& v) {
    valid = v.kind == FieldValue::Kind::string_array;
    items = v.items;
  }
  Result<std::vector<digest::Digest>> get(std::string_view key, const char* field) const {
    if (!valid) return fail(bad(key, std::string(field) + " is not an array of strings"));
    std::vector<digest::Digest> out;
    out.reserve(items.size());
    for (const auto& item : items) {
      auto d = digest::Digest::parse(item);
      if (!d) return fail(bad(key, d.error().message()));
      out.push_back(std::move(*d));
    }
    return out;
  }
};

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
  return compact(j);
}

std::string encode(const ManifestRecord& r) {
  json j = {{"k", r.kind == ManifestKind::index ? "index" : "image"}, {"mt", r.media_type}, {"s", r.size}};
  if (r.config) j["c"] = r.config->str();
  if (!r.layers.empty()) j["l"] = digests(r.layers);
  if (!r.manifests.empty()) j["m"] = digests(r.manifests);
  if (!r.platform.empty()) j["p"] = r.platform;
  j["a"] = to_unix_ms(r.added);
  return compact(j);
}

std::string encode(const BlobRecord& r) {
  json j = {{"s", r.size}};
  if (!r.media_type.empty()) j["mt"] = r.media_type;
  j["a"] = to_unix_ms(r.added);
  j["u"] = to_unix_ms(r.last_used);
  j["n"] = r.use_count;
  return compact(j);
}

std::string encode(const LayerCacheRecord& r) {
  json j = {{"m", r.manifest.str()}, {"l", r.layer.str()}, {"d", r.diff_id.str()}, {"st", r.step},
            {"p", r.platform},       {"c", to_unix_ms(r.created)}, {"u", to_unix_ms(r.last_used)},
            {"h", r.hits},           {"s", r.size}};
  return compact(j);
}

std::string encode_counter(std::uint64_t value) { return std::to_string(value); }

Result<ImageRecord> decode_image(std::string_view key, std::string_view value) {
  auto [ref, platform] = TRY(split_pair(key, k_image_prefix));
  ImageRecord r;
  r.reference = std::move(ref);
  r.platform = std::move(platform);
  DigestField manifest, index;
  bool ok = read_record(value, [&](std::string_view name, const FieldValue& v) {
    if (name == "m") manifest.set(v);
    else if (name == "mt") r.manifest_media_type = text(v);
    else if (name == "ms") r.manifest_size = u64(v);
    else if (name == "i") index.set(v);
    else if (name == "it") r.index_media_type = text(v);
    else if (name == "is") r.index_size = u64(v);
    else if (name == "f") r.fetched = time(v);
    else if (name == "u") r.last_used = time(v);
    else if (name == "n") r.use_count = u64(v);
    else if (name == "t") r.total_size = u64(v);
    return true;
  });
  if (!ok) return fail(not_an_object(key));
  r.manifest = TRY(manifest.get(key, "m"));
  if (index.seen) {
    r.index = TRY(index.get(key, "i"));
  } else {  // "it" and "is" mean something only with "i"
    r.index_media_type.clear();
    r.index_size = 0;
  }
  return r;
}

Result<ManifestRecord> decode_manifest(std::string_view key, std::string_view value) {
  ManifestRecord r;
  r.digest = TRY(digest_from_key(key, k_manifest_prefix));
  std::string kind;
  DigestField config;
  DigestsField layers, children;
  bool ok = read_record(value, [&](std::string_view name, const FieldValue& v) {
    if (name == "k") kind = text(v);
    else if (name == "mt") r.media_type = text(v);
    else if (name == "s") r.size = u64(v);
    else if (name == "c") config.set(v);
    else if (name == "l") layers.set(v);
    else if (name == "m") children.set(v);
    else if (name == "p") r.platform = text(v);
    else if (name == "a") r.added = time(v);
    return true;
  });
  if (!ok) return fail(not_an_object(key));
  if (kind == "index") r.kind = ManifestKind::index;
  else if (kind == "image") r.kind = ManifestKind::image;
  else return fail(bad(key, "unknown manifest kind '" + kind + "'"));
  if (config.seen) r.config = TRY(config.get(key, "c"));
  r.layers = TRY(layers.get(key, "l"));
  r.manifests = TRY(children.get(key, "m"));
  return r;
}

Result<BlobRecord> decode_blob(std::string_view key, std::string_view value) {
  BlobRecord r;
  r.digest = TRY(digest_from_key(key, k_blob_prefix));
  bool ok = read_record(value, [&](std::string_view name, const FieldValue& v) {
    if (name == "s") r.size = u64(v);
    else if (name == "mt") r.media_type = text(v);
    else if (name == "a") r.added = time(v);
    else if (name == "u") r.last_used = time(v);
    else if (name == "n") r.use_count = u64(v);
    return true;
  });
  if (!ok) return fail(not_an_object(key));
  return r;
}

Result<LayerCacheRecord> decode_layer_cache(std::string_view key, std::string_view value) {
  LayerCacheRecord r;
  r.key = std::string(key.substr(k_layer_cache_prefix.size()));
  DigestField manifest, layer, diff_id;
  bool ok = read_record(value, [&](std::string_view name, const FieldValue& v) {
    if (name == "m") manifest.set(v);
    else if (name == "l") layer.set(v);
    else if (name == "d") diff_id.set(v);
    else if (name == "st") r.step = text(v);
    else if (name == "p") r.platform = text(v);
    else if (name == "c") r.created = time(v);
    else if (name == "u") r.last_used = time(v);
    else if (name == "h") r.hits = u64(v);
    else if (name == "s") r.size = u64(v);
    return true;
  });
  if (!ok) return fail(not_an_object(key));
  r.manifest = TRY(manifest.get(key, "m"));
  r.layer = TRY(layer.get(key, "l"));
  r.diff_id = TRY(diff_id.get(key, "d"));
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
