#include "dockerfile/flags.hpp"

#include <algorithm>

#include "dockerfile/go_text.hpp"

namespace strata::dockerfile::detail {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string suggest(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() > 64) return {};
  std::string lower = to_lower(word);
  std::string best;
  std::size_t best_distance = 3;  // suggest only within two edits
  for (const std::string& c : candidates) {
    std::string candidate = to_lower(c);
    std::size_t d = edit_distance(lower, candidate);
    // A truncated word ("plat" for "platform") is as good as a one-letter typo.
    if (lower.size() >= 3 && candidate.rfind(lower, 0) == 0) d = std::min<std::size_t>(d, 1);
    if (d < best_distance && d < std::max<std::size_t>(lower.size(), 2)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

Result<void> FlagSet::parse() {
  for (const std::string& arg : m_raw) {
    if (arg.rfind("--", 0) != 0)
      return strata::fail(ErrorKind::invalid_argument, "arg should start with -- : " + arg);
    std::string_view body = std::string_view(arg).substr(2);
    std::size_t eq = body.find('=');
    std::string name(body.substr(0, eq));
    bool has_value = eq != std::string_view::npos;
    std::string value = has_value ? std::string(body.substr(eq + 1)) : std::string();
    auto kind = m_kinds.find(name);
    if (kind == m_kinds.end()) {
      std::vector<std::string> names;
      for (const auto& [n, _] : m_kinds) names.push_back(n);
      std::string hint = suggest(name, names);
      std::string message = "unknown flag: --" + name;
      if (!hint.empty()) message += " (did you mean --" + hint + "?)";
      return strata::fail(ErrorKind::invalid_argument, message);
    }
    auto& values = m_values[name];
    if (!values.empty() && kind->second != Kind::strings)
      return strata::fail(ErrorKind::invalid_argument, "duplicate flag specified: --" + name);
    if (kind->second == Kind::boolean) {
      std::string lower = to_lower(value);
      if (!has_value || value.empty()) {
        value = "true";
      } else if (lower != "true" && lower != "false") {
        return strata::fail(ErrorKind::invalid_argument,
                            "expecting boolean value for flag --" + name + ", not: " + value);
      } else {
        value = lower;
      }
    } else if (!has_value) {
      return strata::fail(ErrorKind::invalid_argument, "missing a value on flag: --" + name);
    }
    values.push_back(std::move(value));
  }
  return {};
}

std::optional<std::string> FlagSet::string(const std::string& name) const {
  auto it = m_values.find(name);
  if (it == m_values.end() || it->second.empty()) return std::nullopt;
  return it->second.front();
}

bool FlagSet::boolean(const std::string& name) const {
  auto it = m_values.find(name);
  return it != m_values.end() && !it->second.empty() && it->second.front() == "true";
}

std::vector<std::string> FlagSet::strings(const std::string& name) const {
  auto it = m_values.find(name);
  return it == m_values.end() ? std::vector<std::string>() : it->second;
}

}  // namespace strata::dockerfile::detail
