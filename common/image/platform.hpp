// Platforms ("linux/amd64", "linux/arm64/v8", "linux/arm/v7") and how an index entry is chosen
// for a wanted platform, following containerd's platforms package:
//   - names are normalised: "aarch64" → arm64, "x86_64"/"x86-64" → amd64, "i386" → 386,
//     "armhf" → arm/v7, "armel" → arm/v6, "macos" → darwin, bare "arm" → arm/v7;
//   - arm64 "v8" is the default variant and equal to no variant; amd64 "v1" likewise;
//   - a machine runs lower variants of its architecture: arm/v7 also runs v6 and v5, amd64/v3
//     also runs v2 and v1. Exact variants are preferred, then the next lower one.
// Platform is a plain value; every function here is pure and thread-safe (host() reads uname once).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::image {

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;  // Windows build, e.g. "10.0.17763.1879"; empty elsewhere
  std::vector<std::string> os_features;

  // Parses "os/arch[/variant]", "arch" (os defaults to linux) or "os" alone (host architecture),
  // with an optional "(os.version)" after the os ("windows(10.0.17763)/amd64"). The result is
  // normalised. Errors: invalid_argument naming the text.
  static Result<Platform> parse(std::string_view text);
  // The machine we run on, as GOOS/GOARCH names ("linux/amd64", "linux/arm64/v8").
  static Platform host();

  // "os/arch[/variant]" as given (not normalised).
  std::string str() const;
  // containerd's normalisation; arm64's default variant becomes "" so comparisons ignore it.
  Platform normalized() const;

  friend bool operator==(const Platform&, const Platform&) = default;
};

// Normalises an architecture name and its variant in place (see the top of this file).
void normalize_arch(std::string& architecture, std::string& variant);

// How well `candidate` (an index entry) suits `wanted`: 0 is an exact match, 1, 2, ... are
// acceptable fallbacks in order of preference (lower variants), -1 means it cannot run.
int match_rank(const Platform& wanted, const Platform& candidate);
inline bool matches(const Platform& wanted, const Platform& candidate) {
  return match_rank(wanted, candidate) >= 0;
}

}  // namespace strata::image
