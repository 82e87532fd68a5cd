// Small string helpers shared across common/.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace strata::util {

// ASCII lower case (header names, hosts, platform fields); other bytes unchanged.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); });
  return out;
}

// The components of a slash-separated path without the empty ones and ".": "/a//b/./c/" gives
// a, b, c. ".." is kept: callers differ in what it means (an error, or a step up).
inline std::vector<std::string_view> path_components(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (!part.empty() && part != ".") parts.push_back(part);
  }
  return parts;
}

// Components (strings or string_views) joined by '/' (no leading slash).
template <class Parts>
std::string join_components(const Parts& parts) {
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

}  // namespace strata::util
