#include "cache/entry.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "image/media_types.hpp"

namespace strata::cache {

namespace {

using Json = nlohmann::json;

Result<StepKind> parse_kind(std::string_view text) {
  for (auto k : {StepKind::run, StepKind::copy, StepKind::add, StepKind::metadata}) {
    if (to_string(k) == text) return k;
  }
  return fail(ErrorKind::corrupt, "layer-cache entry config: unknown kind '" + std::string(text) + "'");
}

}  // namespace

std::string format_time(store::TimePoint t) {
  std::int64_t ms = store::to_unix_ms(t);
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int frac = static_cast<int>(ms - secs * 1000);
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

Result<store::TimePoint> parse_time(std::string_view text) {
  auto bad = [&] { return fail(ErrorKind::invalid_argument, "invalid RFC 3339 time '" + std::string(text) + "'"); };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, consumed = 0;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6 || consumed != 19)
    return bad();
  std::size_t pos = 19;
  std::int64_t ms = 0;
  if (pos < str.size() && str[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < str.size() && std::isdigit(static_cast<unsigned char>(str[pos]))) {
      if (digits < 3) ms = ms * 10 + (str[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  std::int64_t offset_s = 0;
  if (pos < str.size() && (str[pos] == 'Z' || str[pos] == 'z')) {
    ++pos;
  } else if (pos < str.size() && (str[pos] == '+' || str[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(str.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2 || str.size() != pos + 6) return bad();
    offset_s = (oh * 3600 + om * 60) * (str[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != str.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::int64_t secs = static_cast<std::int64_t>(timegm(&tm)) - offset_s;
  return store::from_unix_ms(secs * 1000 + ms);
}

std::string serialize_entry_config(const EntryConfig& c) {
  nlohmann::ordered_json j;
  j["strataLayerCache"] = k_recipe_version;
  j["key"] = c.key;
  j["step"] = c.step;
  j["kind"] = std::string(to_string(c.kind));
  j["created"] = format_time(c.created);
  j["platform"] = c.platform;
  j["diffID"] = c.diff_id.valid() ? c.diff_id.str() : std::string();
  j["layerMediaType"] = c.layer_media_type;
  j["inputs"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : c.inputs) j["inputs"][k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<EntryConfig> parse_entry_config(std::string_view bytes) {
  Json j;
  try {
    j = Json::parse(bytes);
  } catch (const Json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("layer-cache entry config: ") + e.what());
  }
  auto corrupt = [](const std::string& what) {
    return fail(ErrorKind::corrupt, "layer-cache entry config: " + what);
  };
  if (!j.is_object() || !j.contains("strataLayerCache")) return corrupt("not a strata layer-cache config");
  auto str = [&](const char* name) -> Result<std::string> {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return std::string();
    if (!it->is_string()) return corrupt(std::string("field ") + name + " is not a string");
    return it->get<std::string>();
  };
  EntryConfig c;
  c.key = TRY(str("key"));
  if (c.key.empty()) return corrupt("missing key");
  c.step = TRY(str("step"));
  c.kind = TRY(parse_kind(TRY(str("kind"))));
  auto created = parse_time(TRY(str("created")));
  if (!created) return corrupt(created.error().message());
  c.created = *created;
  c.platform = TRY(str("platform"));
  auto diff = TRY(str("diffID"));
  if (!diff.empty()) {
    auto d = digest::Digest::parse(diff);
    if (!d) return corrupt(d.error().message());
    c.diff_id = *d;
  }
  c.layer_media_type = TRY(str("layerMediaType"));
  if (auto it = j.find("inputs"); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) c.inputs[k] = v.get<std::string>();
    }
  }
  return c;
}

EntryImage make_entry_image(const StepKey& key, const image::Descriptor& layer, const digest::Digest& diff_id,
                            store::TimePoint created) {
  EntryImage e;
  e.config.key = key.key;
  e.config.step = key.display;
  e.config.kind = key.kind;
  e.config.created = created;
  e.config.platform = key.platform;
  e.config.diff_id = diff_id;
  e.config.layer_media_type = layer.media_type;
  e.config.inputs = key.inputs;
  e.config_bytes = serialize_entry_config(e.config);
  e.config_digest = digest::sha256(e.config_bytes);
  e.layer = image::Descriptor{};
  e.layer.media_type = layer.media_type;
  e.layer.digest = layer.digest;
  e.layer.size = layer.size;

  image::Manifest m;
  m.media_type = std::string(image::media::oci_manifest);
  m.config.media_type = std::string(k_entry_config_media_type);
  m.config.digest = e.config_digest;
  m.config.size = static_cast<std::int64_t>(e.config_bytes.size());
  m.layers.push_back(e.layer);
  m.annotations["org.opencontainers.image.created"] = format_time(created);
  e.manifest_bytes = m.serialize();
  e.manifest_digest = digest::sha256(e.manifest_bytes);
  return e;
}

Result<EntryImage> parse_entry_image(std::string manifest_bytes, std::string config_bytes) {
  auto m = image::Manifest::parse(manifest_bytes);
  if (!m) return fail(m.error().with_context("layer-cache entry manifest"));
  if (m->config.media_type != k_entry_config_media_type)
    return fail(ErrorKind::corrupt, "layer-cache entry manifest: config media type is '" + m->config.media_type +
                                        "', not a layer-cache entry");
  if (m->layers.size() != 1)
    return fail(ErrorKind::corrupt,
                "layer-cache entry manifest: " + std::to_string(m->layers.size()) + " layers, expected 1");
  EntryImage e;
  e.config_digest = digest::sha256(config_bytes);
  if (e.config_digest != m->config.digest)
    return fail(ErrorKind::corrupt, "layer-cache entry: config is " + e.config_digest.str() + ", manifest names " +
                                        m->config.digest.str());
  e.config = TRY(parse_entry_config(config_bytes));
  e.layer = m->layers.front();
  e.config_bytes = std::move(config_bytes);
  e.manifest_digest = digest::sha256(manifest_bytes);
  e.manifest_bytes = std::move(manifest_bytes);
  return e;
}

}  // namespace strata::cache
