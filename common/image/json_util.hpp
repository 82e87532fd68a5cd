// Internal to common/image/: bounded JSON parsing, typed field access with errors that name the
// field, descriptor/platform (de)serialisation, and output byte-compatible with Go's
// encoding/json (compact, HTML-escaped, invalid UTF-8 replaced), so manifests and configs we
// write look like those docker, buildah and containers/image write.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/descriptor.hpp"
#include "util/result.hpp"

namespace strata::image::json_util {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

inline constexpr std::size_t k_max_document_size = 4 * 1024 * 1024;
inline constexpr int k_max_depth = 64;

// Parses a JSON document no larger than k_max_document_size and no deeper than k_max_depth.
// Errors: corrupt, prefixed with `what` ("manifest", "image config").
Result<Json> parse_bounded(std::string_view bytes, std::string_view what);

// Go's json.Marshal output for a document whose keys are already in Go field order.
std::string go_dump(const OrderedJson& doc);

// Typed getters: a missing key or a JSON null gives the empty value; a wrong type is corrupt,
// naming `where.key`.
Result<std::string> get_string(const Json& obj, const char* key, std::string_view where);
Result<std::vector<std::string>> get_string_array(const Json& obj, const char* key, std::string_view where);
Result<std::map<std::string, std::string>> get_string_map(const Json& obj, const char* key, std::string_view where);
// Keys of an object of empty objects ({"80/tcp":{}}), as ExposedPorts and Volumes.
Result<std::vector<std::string>> get_key_set(const Json& obj, const char* key, std::string_view where);
Result<std::int64_t> get_int64(const Json& obj, const char* key, std::string_view where);
Result<bool> get_bool(const Json& obj, const char* key, std::string_view where);

Result<Platform> platform_from_json(const Json& j, std::string_view where);
OrderedJson platform_to_json(const Platform& p);

enum class DescriptorStyle { oci, docker };
Result<Descriptor> descriptor_from_json(const Json& j, std::string_view where);
OrderedJson descriptor_to_json(const Descriptor& d, DescriptorStyle style);

}  // namespace strata::image::json_util
