// libFuzzer target for manifests, indexes and image configs.
//
// Input: a byte selecting the Content-Type hint, then a JSON document. Checks that parsing never
// crashes or throws, that anything accepted serialises to JSON that parses back to an equal
// value (serialisation is a fixed point after one round), and that the image config parser and
// serialiser agree in the same way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "image/config.hpp"
#include "image/index.hpp"
#include "image/manifest.hpp"
#include "image/manifest_any.hpp"
#include "image/media_types.hpp"

namespace {

constexpr std::string_view k_hints[] = {
    "",
    strata::image::media::docker_manifest,
    strata::image::media::docker_manifest_list,
    strata::image::media::oci_manifest,
    strata::image::media::oci_index,
    strata::image::media::docker_schema1_signed,
    "application/json; charset=utf-8",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace strata::image;
  if (size == 0) return 0;
  const std::string_view hint = k_hints[data[0] % std::size(k_hints)];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  if (auto parsed = parse_manifest_any(body, hint)) {
    if (const Manifest* m = parsed->manifest()) {
      std::string once = m->serialize();
      auto back = Manifest::parse(once);
      if (!back || back->serialize() != once) std::abort();
    } else if (const Index* index = parsed->index()) {
      std::string once = index->serialize();
      auto back = Index::parse(once);
      if (!back || back->serialize() != once) std::abort();
      (void)select_platform(*index, Platform::host());
    } else {
      std::abort();
    }
  }

  if (auto config = ImageConfig::parse(body)) {
    std::string once = config->serialize();
    auto back = ImageConfig::parse(once);
    if (!back || back->serialize() != once) std::abort();
  }
  return 0;
}
