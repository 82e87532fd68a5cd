// Parsing and printing of the durations and sizes that flags take.
//
// Durations follow Go's time.ParseDuration, as kaniko's flags do ("336h", "1h30m", "90s",
// "250ms"), plus "d" (24h) and "w" (7d) which administrators expect in prune policies.
// Sizes accept a plain byte count or a number with a unit: k/KB=1000, Ki/KiB=1024, up to T/TiB;
// units are case-insensitive and the trailing "B" is optional ("10G", "10GB", "10GiB").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace strata::util {

Result<std::chrono::milliseconds> parse_duration(std::string_view text);
Result<std::uint64_t> parse_size(std::string_view text);

// "1.5 GiB", "512 B", "3.2 MiB".
std::string human_size(std::uint64_t bytes);
// "3d 4h", "5m 10s", "250ms": two most significant units.
std::string human_duration(std::chrono::milliseconds d);
// Go-style duration for flags' defaults and JSON: "336h0m0s".
std::string go_duration(std::chrono::milliseconds d);

}  // namespace strata::util
