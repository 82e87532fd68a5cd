#include "image/json_util.hpp"

#include <limits>

namespace strata::image::json_util {
namespace {

std::string field(std::string_view where, const char* key) {
  std::string out(where);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

tl::unexpected<Error> wrong_type(std::string_view where, const char* key, std::string_view expected) {
  return fail(ErrorKind::corrupt, "field '" + field(where, key) + "' must be " + std::string(expected));
}

// Depth of nesting, ignoring brackets inside strings; stops early once past the limit.
bool too_deep(std::string_view bytes) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > k_max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

Result<Json> parse_bounded(std::string_view bytes, std::string_view what) {
  if (bytes.size() > k_max_document_size) {
    return fail(ErrorKind::corrupt, std::string(what) + ": document of " + std::to_string(bytes.size()) +
                                        " bytes exceeds the limit of 4 MiB");
  }
  if (too_deep(bytes)) {
    return fail(ErrorKind::corrupt, std::string(what) + ": JSON nested deeper than " + std::to_string(k_max_depth) +
                                        " levels");
  }
  try {
    return Json::parse(bytes.begin(), bytes.end());
  } catch (const Json::exception& e) {
    return fail(ErrorKind::corrupt, std::string(what) + ": invalid JSON: " + e.what());
  }
}

std::string go_dump(const OrderedJson& doc) {
  std::string raw = doc.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size() + 16);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    // These characters only occur inside strings in JSON output, so a blind replace is safe.
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else if (c == '\xE2' && i + 2 < raw.size() && raw[i + 1] == '\x80' && (raw[i + 2] == '\xA8' || raw[i + 2] == '\xA9')) {
      out += raw[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::string> get_string(const Json& obj, const char* key, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return wrong_type(where, key, "a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> get_string_array(const Json& obj, const char* key, std::string_view where) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return wrong_type(where, key, "an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) return wrong_type(where, key, "an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> get_string_map(const Json& obj, const char* key, std::string_view where) {
  std::map<std::string, std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return wrong_type(where, key, "an object of strings");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return wrong_type(where, key, "an object of strings");
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

Result<std::vector<std::string>> get_key_set(const Json& obj, const char* key, std::string_view where) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return wrong_type(where, key, "an object");
  for (const auto& [k, v] : it->items()) out.push_back(k);
  return out;
}

Result<std::int64_t> get_int64(const Json& obj, const char* key, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return 0;
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
      return wrong_type(where, key, "a 64-bit integer");
    }
    return it->get<std::int64_t>();
  }
  return wrong_type(where, key, "an integer");
}

Result<bool> get_bool(const Json& obj, const char* key, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) return wrong_type(where, key, "a boolean");
  return it->get<bool>();
}

Result<Platform> platform_from_json(const Json& j, std::string_view where) {
  if (!j.is_object()) return fail(ErrorKind::corrupt, "field '" + std::string(where) + "' must be an object");
  Platform p;
  p.architecture = TRY(get_string(j, "architecture", where));
  p.os = TRY(get_string(j, "os", where));
  p.os_version = TRY(get_string(j, "os.version", where));
  p.os_features = TRY(get_string_array(j, "os.features", where));
  p.variant = TRY(get_string(j, "variant", where));
  return p;
}

OrderedJson platform_to_json(const Platform& p) {
  OrderedJson j = OrderedJson::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

Result<Descriptor> descriptor_from_json(const Json& j, std::string_view where) {
  if (!j.is_object()) return fail(ErrorKind::corrupt, "field '" + std::string(where) + "' must be an object");
  Descriptor d;
  d.media_type = TRY(get_string(j, "mediaType", where));
  std::string digest_text = TRY(get_string(j, "digest", where));
  if (digest_text.empty()) return fail(ErrorKind::corrupt, "field '" + std::string(where) + ".digest' is missing");
  auto digest = digest::Digest::parse(digest_text);
  if (!digest) {
    return fail(ErrorKind::corrupt, "field '" + std::string(where) + ".digest': " + digest.error().message());
  }
  d.digest = std::move(*digest);
  if (!j.contains("size")) return fail(ErrorKind::corrupt, "field '" + std::string(where) + ".size' is missing");
  d.size = TRY(get_int64(j, "size", where));
  if (d.size < 0 || d.size > k_max_descriptor_size) {
    return fail(ErrorKind::corrupt, "field '" + std::string(where) + ".size' is out of range: " + std::to_string(d.size));
  }
  d.urls = TRY(get_string_array(j, "urls", where));
  d.annotations = TRY(get_string_map(j, "annotations", where));
  d.artifact_type = TRY(get_string(j, "artifactType", where));
  if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
    d.platform = TRY(platform_from_json(*it, std::string(where) + ".platform"));
  }
  return d;
}

OrderedJson descriptor_to_json(const Descriptor& d, DescriptorStyle style) {
  OrderedJson j = OrderedJson::object();
  j["mediaType"] = d.media_type;
  if (style == DescriptorStyle::docker) {
    j["size"] = d.size;
    j["digest"] = d.digest.str();
  } else {
    j["digest"] = d.digest.str();
    j["size"] = d.size;
  }
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = platform_to_json(*d.platform);
  if (!d.artifact_type.empty() && style == DescriptorStyle::oci) j["artifactType"] = d.artifact_type;
  return j;
}

}  // namespace strata::image::json_util
