// libFuzzer target for the cache index's record reader (store/record_reader.hpp), differential
// against nlohmann::json: whatever nlohmann accepts as an object (nesting ≤ 64) the reader
// accepts too, and fields read the same (strings, integers, arrays of strings; the last of a
// repeated name). The reader may accept more (it passes non-UTF-8 bytes through), and refuses a
// NUL byte after the object, which nlohmann takes for the end of its input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "store/record_reader.hpp"

namespace {

using strata::store::codec::FieldValue;

int depth(const nlohmann::json& j) {
  int d = 0;
  if (j.is_structured())
    for (const auto& e : j) d = std::max(d, depth(e));
  return j.is_structured() ? d + 1 : 0;
}

void check_same(const nlohmann::json& want, const FieldValue& got) {
  using K = FieldValue::Kind;
  if (want.is_string()) {
    if (got.kind != K::string || got.text != want.get_ref<const std::string&>()) std::abort();
  } else if (want.is_number_unsigned()) {
    if (got.kind != K::unsigned_integer || got.number != want.get<std::uint64_t>()) std::abort();
  } else if (want.is_number_integer()) {  // negative (or -0)
    if (!got.is_integer() || got.as_int64() != want.get<std::int64_t>()) std::abort();
  } else if (want.is_array() && std::all_of(want.begin(), want.end(), [](const auto& e) { return e.is_string(); })) {
    if (got.kind != K::string_array || got.items.size() != want.size()) std::abort();
    for (std::size_t i = 0; i < want.size(); ++i)
      if (got.items[i] != want[i].get_ref<const std::string&>()) std::abort();
  } else if (got.kind != K::other) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, FieldValue> got;
  std::map<std::string, std::string> texts;  // FieldValue::text outlives the visit here
  bool ok = strata::store::codec::read_record(input, [&](std::string_view name, const FieldValue& v) {
    std::string key(name);
    texts[key] = std::string(v.text);
    got[key] = v;
    got[key].text = texts[key];
    return true;
  });
  nlohmann::json j = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || depth(j) > 64) return 0;
  if (!ok) {
    // nlohmann takes a NUL byte for the end of input ("{}\0junk" parses); the reader does not.
    if (input.find('\0') != std::string_view::npos) return 0;
    std::abort();  // nlohmann accepted an object the reader refused
  }
  if (got.size() != j.size()) std::abort();
  for (const auto& [name, value] : j.items()) {
    auto it = got.find(name);
    if (it == got.end()) std::abort();
    check_same(value, it->second);
  }
  return 0;
}
