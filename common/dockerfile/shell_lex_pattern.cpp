#include "dockerfile/shell_lex_pattern.hpp"

namespace strata::dockerfile::detail {

std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t len = 1;
  if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
  } else if (lead >= 0xE0) {
    len = lead <= 0xEF ? 3 : 1;
  } else if (lead >= 0xC2) {
    len = 2;
  }
  if (i + len > s.size()) return 1;
  for (std::size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  return len;
}

Result<ShellPattern> ShellPattern::compile(std::string_view pattern) {
  ShellPattern p;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*') {
      p.m_tokens.push_back({Kind::star, 0});
    } else if (c == '?') {
      p.m_tokens.push_back({Kind::any, 0});
    } else if (c == '\\') {
      // `\}` and `\/` only protect the delimiters of ${}: the escape itself is not part of the
      // pattern and the next character is read normally.
      if (i + 1 < pattern.size() && (pattern[i + 1] == '}' || pattern[i + 1] == '/')) continue;
      if (i + 1 >= pattern.size()) {
        return fail(ErrorKind::invalid_argument,
                    "invalid pattern (" + std::string(pattern) + ") in substitution: trailing '\\'");
      }
      const char next = pattern[++i];
      if (next != '*' && next != '?' && next != '\\') {
        return fail(ErrorKind::invalid_argument, "invalid pattern (" + std::string(pattern) +
                                                     ") in substitution: invalid escape '\\" +
                                                     std::string(1, next) + "'");
      }
      p.m_tokens.push_back({Kind::literal, next});
    } else {
      p.m_tokens.push_back({Kind::literal, c});
    }
  }
  return p;
}

void ShellPattern::match_ends(std::string_view value, std::size_t start,
                              std::vector<char>& ends) const {
  const std::size_t n = value.size() - start;
  const std::size_t m = m_tokens.size();
  const std::size_t width = m + 1;
  std::vector<char> reach((n + 1) * width, 0);
  auto add = [&](std::size_t pos, std::size_t t) {
    while (true) {
      char& cell = reach[pos * width + t];
      if (cell) return;
      cell = 1;
      if (t < m && m_tokens[t].kind == Kind::star) {
        ++t;  // a star may match nothing
      } else {
        return;
      }
    }
  };
  add(0, 0);
  ends.assign(n + 1, 0);
  for (std::size_t pos = 0; pos <= n; ++pos) {
    if (reach[pos * width + m]) ends[pos] = 1;
    if (pos == n) break;
    const char c = value[start + pos];
    for (std::size_t t = 0; t < m; ++t) {
      if (!reach[pos * width + t]) continue;
      const Token& tok = m_tokens[t];
      switch (tok.kind) {
        case Kind::literal:
          if (c == tok.byte) add(pos + 1, t + 1);
          break;
        case Kind::any:
          if (c != '\n') add(pos + utf8_length(value, start + pos), t + 1);
          break;
        case Kind::star:
          if (c != '\n') add(pos + 1, t);
          break;
      }
    }
  }
}

std::string ShellPattern::trim_prefix(std::string_view value, bool longest) const {
  std::vector<char> ends;
  match_ends(value, 0, ends);
  if (longest) {
    for (std::size_t e = ends.size(); e-- > 0;) {
      if (ends[e]) return std::string(value.substr(e));
    }
  } else {
    for (std::size_t e = 0; e < ends.size(); ++e) {
      if (ends[e]) return std::string(value.substr(e));
    }
  }
  return std::string(value);
}

std::string ShellPattern::trim_suffix(std::string_view value, bool longest) const {
  std::vector<char> ends;
  auto suffix_matches = [&](std::size_t b) {
    match_ends(value, b, ends);
    return ends.back() != 0;
  };
  if (longest) {
    for (std::size_t b = 0; b <= value.size(); ++b) {
      if (suffix_matches(b)) return std::string(value.substr(0, b));
    }
  } else {
    for (std::size_t b = value.size() + 1; b-- > 0;) {
      if (suffix_matches(b)) return std::string(value.substr(0, b));
    }
  }
  return std::string(value);
}

bool ShellPattern::find(std::string_view value, std::size_t from, std::size_t& begin,
                        std::size_t& end) const {
  std::vector<char> ends;
  for (std::size_t b = from; b <= value.size(); ++b) {
    match_ends(value, b, ends);
    for (std::size_t e = ends.size(); e-- > 0;) {
      if (ends[e]) {
        begin = b;
        end = b + e;
        return true;
      }
    }
  }
  return false;
}

std::string ShellPattern::replace(std::string_view value, std::string_view replacement,
                                  bool all) const {
  std::size_t begin = 0;
  std::size_t end = 0;
  if (!all) {
    if (!find(value, 0, begin, end)) return std::string(value);
    std::string out(value.substr(0, begin));
    out += replacement;
    out += value.substr(end);
    return out;
  }
  // Go's Regexp.ReplaceAllString: an empty match right after a previous match is not replaced,
  // and the search always advances by at least one character.
  std::string out;
  std::size_t search = 0;
  std::size_t last_end = 0;
  while (search <= value.size() && find(value, search, begin, end)) {
    out += value.substr(last_end, begin - last_end);
    if (end > last_end || begin == 0) out += replacement;
    last_end = end;
    const std::size_t width = search < value.size() ? utf8_length(value, search) : 0;
    if (search + width > end) {
      search += width;
    } else if (search + 1 > end) {
      ++search;
    } else {
      search = end;
    }
  }
  out += value.substr(last_end);
  return out;
}

}  // namespace strata::dockerfile::detail
