// Instruction flags (`COPY --from=x --link`), BuildKit's BFlags: each instruction declares the flags
// it takes; anything else is an error. Flag names are case-sensitive.
//
// Internal to common/dockerfile/. Not thread-safe (plain value).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::dockerfile::detail {

class FlagSet {
 public:
  explicit FlagSet(const std::vector<std::string>& raw) : m_raw(raw) {}

  void add_string(std::string name) { m_kinds[std::move(name)] = Kind::string; }
  void add_bool(std::string name) { m_kinds[std::move(name)] = Kind::boolean; }
  void add_strings(std::string name) { m_kinds[std::move(name)] = Kind::strings; }  // repeatable

  // Errors (message without location): unknown flag (with a suggestion), duplicate flag, a string
  // flag without "=value", a boolean flag with a value other than true/false.
  Result<void> parse();

  std::optional<std::string> string(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::vector<std::string> strings(const std::string& name) const;

 private:
  enum class Kind { string, boolean, strings };
  const std::vector<std::string>& m_raw;
  std::map<std::string, Kind> m_kinds;
  std::map<std::string, std::vector<std::string>> m_values;
};

// The closest candidate within a small edit distance, for "did you mean" hints; "" when none.
std::string suggest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace strata::dockerfile::detail
