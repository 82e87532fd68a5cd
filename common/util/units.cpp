#include "util/units.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace strata::util {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Reads a non-negative decimal number (digits with an optional fraction) at text[pos].
bool read_number(std::string_view text, size_t& pos, double& out) {
  size_t start = pos;
  while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) ++pos;
  if (pos == start) return false;
  std::string num(text.substr(start, pos - start));
  if (num == "." || std::count(num.begin(), num.end(), '.') > 1) return false;
  out = std::strtod(num.c_str(), nullptr);
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorKind::invalid_argument,
                "invalid duration '" + std::string(text) + "' (examples: 336h, 1h30m, 90s, 7d)");
  };
  if (text.empty()) return bad();
  if (text == "0") return std::chrono::milliseconds(0);
  double total_ms = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    double value = 0;
    if (!read_number(text, pos, value)) return bad();
    size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    double scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60e3;
    else if (unit == "h") scale = 3600e3;
    else if (unit == "d") scale = 86400e3;
    else if (unit == "w") scale = 7 * 86400e3;
    else if (unit == "us" || unit == "µs" || unit == "ns") scale = unit == "ns" ? 1e-6 : 1e-3;
    else return bad();
    total_ms += value * scale;
  }
  if (total_ms > 1e15) return bad();
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

Result<std::uint64_t> parse_size(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorKind::invalid_argument,
                "invalid size '" + std::string(text) + "' (examples: 1073741824, 500MB, 10GiB, 2T)");
  };
  size_t pos = 0;
  while (pos < text.size() && text[pos] == ' ') ++pos;
  double value = 0;
  if (!read_number(text, pos, value)) return bad();
  while (pos < text.size() && text[pos] == ' ') ++pos;
  std::string_view unit = text.substr(pos);
  if (!unit.empty() && (unit.back() == 'b' || unit.back() == 'B') && !iequals(unit, "b"))
    unit.remove_suffix(1);
  double scale = 0;
  static const std::pair<std::string_view, double> units[] = {
      {"", 1},       {"b", 1},          {"k", 1e3},        {"ki", 1024.0},        {"m", 1e6},
      {"mi", 1048576.0}, {"g", 1e9},    {"gi", 1073741824.0}, {"t", 1e12}, {"ti", 1099511627776.0}};
  for (const auto& [name, s] : units) {
    if (iequals(unit, name)) scale = s;
  }
  if (scale == 0) return bad();
  double bytes = value * scale;
  if (bytes > 1.8e19) return bad();
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string human_size(std::uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return buf;
}

std::string human_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms < 0) ms = 0;
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::int64_t s = ms / 1000;
  const std::pair<const char*, std::int64_t> units[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
  std::string out;
  int shown = 0;
  for (const auto& [name, size] : units) {
    if (s >= size || (shown > 0)) {
      std::int64_t n = s / size;
      s %= size;
      if (n > 0 || shown > 0) {
        if (n > 0) out += (out.empty() ? "" : " ") + std::to_string(n) + name;
        if (++shown == 2) break;
      }
    }
  }
  return out.empty() ? "0s" : out;
}

std::string go_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  std::int64_t h = ms / 3600000, m = (ms / 60000) % 60;
  double s = static_cast<double>(ms % 60000) / 1000.0;
  char buf[64];
  if (h > 0) std::snprintf(buf, sizeof buf, "%lldh%lldm%gs", static_cast<long long>(h), static_cast<long long>(m), s);
  else if (m > 0) std::snprintf(buf, sizeof buf, "%lldm%gs", static_cast<long long>(m), s);
  else std::snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

}  // namespace strata::util
