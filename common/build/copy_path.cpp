#include "build/copy_path.hpp"

#include <vector>

#include "dockerfile/dockerignore_pattern.hpp"

namespace strata::build {

std::string normalize_source(std::string_view p) {
  std::string joined = "/";
  joined += p;
  std::string clean = dockerfile::clean_path(joined);
  if (clean == "/") return "";
  return clean.substr(1);
}

bool contains_wildcards(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '\\') ++i;
    else if (c == '*' || c == '?' || c == '[') return true;
  }
  return false;
}

std::pair<std::string, std::string> split_wildcards(std::string_view rel) {
  std::string head, tail;
  bool found = false;
  std::size_t start = 0;
  while (start <= rel.size() && !rel.empty()) {
    std::size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string_view comp = rel.substr(start, slash - start);
    if (!found && contains_wildcards(comp)) found = true;
    std::string& out = found ? tail : head;
    if (!out.empty()) out += '/';
    out += comp;
    start = slash + 1;
  }
  return {head, tail};
}

namespace {

// One character class starting after '[' at pattern[i]; on success sets `matched` and returns
// the index after ']'. Returns npos for a malformed class.
constexpr std::size_t k_bad = std::string_view::npos;

std::size_t match_class(std::string_view pat, std::size_t i, char c, bool& matched) {
  bool negated = false;
  if (i < pat.size() && pat[i] == '^') {
    negated = true;
    ++i;
  }
  bool in = false;
  bool first = true;
  for (;;) {
    if (i >= pat.size()) return k_bad;
    if (pat[i] == ']' && !first) {
      ++i;
      break;
    }
    first = false;
    auto take = [&](char& out) {
      if (i >= pat.size()) return false;
      if (pat[i] == '\\') {
        ++i;
        if (i >= pat.size()) return false;
      } else if (pat[i] == '-' || pat[i] == ']') {
        return false;
      }
      out = pat[i++];
      return true;
    };
    char lo = 0, hi = 0;
    if (!take(lo)) return k_bad;
    hi = lo;
    if (i < pat.size() && pat[i] == '-') {
      ++i;
      if (!take(hi)) return k_bad;
    }
    auto uc = static_cast<unsigned char>(c);
    if (static_cast<unsigned char>(lo) <= uc && uc <= static_cast<unsigned char>(hi)) in = true;
  }
  matched = in != negated;
  return i;
}

// Validates the rest of a pattern after a mismatch, as Go reports ErrBadPattern even then.
bool well_formed(std::string_view pat) {
  for (std::size_t i = 0; i < pat.size(); ++i) {
    if (pat[i] == '\\') {
      if (++i >= pat.size()) return false;
    } else if (pat[i] == '[') {
      bool dummy;
      std::size_t next = match_class(pat, i + 1, 'a', dummy);
      if (next == k_bad) return false;
      i = next - 1;
    }
  }
  return true;
}

// Backtracking matcher: `*` is any run of non-'/' bytes.
int match_here(std::string_view pat, std::string_view s) {
  std::size_t p = 0, n = 0;
  while (p < pat.size()) {
    char pc = pat[p];
    if (pc == '*') {
      while (p < pat.size() && pat[p] == '*') ++p;
      std::string_view rest = pat.substr(p);
      for (std::size_t k = n;; ++k) {
        int r = match_here(rest, s.substr(k));
        if (r != 0) return r;
        if (k >= s.size() || s[k] == '/') return 0;
      }
    }
    if (n >= s.size()) return 0;
    char c = s[n];
    if (pc == '?') {
      if (c == '/') return 0;
      ++p;
      ++n;
      continue;
    }
    if (pc == '[') {
      bool matched = false;
      std::size_t next = match_class(pat, p + 1, c, matched);
      if (next == k_bad) return -1;
      if (!matched || c == '/') return 0;
      p = next;
      ++n;
      continue;
    }
    if (pc == '\\') {
      if (++p >= pat.size()) return -1;
      pc = pat[p];
    }
    if (pc != c) return 0;
    ++p;
    ++n;
  }
  return n == s.size() ? 1 : 0;
}

}  // namespace

Result<bool> go_path_match(std::string_view pattern, std::string_view name) {
  int r = match_here(pattern, name);
  if (r < 0 || (r == 0 && !well_formed(pattern)))
    return fail(ErrorKind::invalid_argument, "invalid source pattern \"" + std::string(pattern) + "\"");
  return r == 1;
}

std::string join_rel(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  out += '/';
  out += b;
  return out;
}

std::string_view base_name(std::string_view rel) {
  std::size_t slash = rel.rfind('/');
  return slash == std::string_view::npos ? rel : rel.substr(slash + 1);
}

}  // namespace strata::build
