// libFuzzer target for image references.
//
// Input: any text. Checks that parsing never crashes, that every accepted reference prints a
// normalised form which parses back to the same value (str() and familiar() are fixed points),
// and that errors are always invalid_argument.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using strata::image::Reference;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto ref = Reference::parse(input);
  if (!ref) {
    if (ref.error().kind() != strata::ErrorKind::invalid_argument) std::abort();
    return 0;
  }
  auto again = Reference::parse(ref->str());
  if (!again || !(*again == *ref)) std::abort();
  auto familiar = Reference::parse(ref->familiar());
  if (!familiar || familiar->str() != ref->str()) std::abort();
  if (ref->tag().empty() && !ref->digest()) std::abort();
  if (ref->identifier().empty()) std::abort();
  return 0;
}
