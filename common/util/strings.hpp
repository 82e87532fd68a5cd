// Small string helpers shared across common/.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace strata::util {

// ASCII lower case (header names, hosts, platform fields); other bytes unchanged.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); });
  return out;
}

}  // namespace strata::util
