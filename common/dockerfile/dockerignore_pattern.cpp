#include "dockerfile/dockerignore_pattern.hpp"

#include <algorithm>

#include "dockerfile/shell_lex_pattern.hpp"

namespace strata::dockerfile {
namespace {

using detail::utf8_length;

std::uint32_t decode_rune(std::string_view s, std::size_t i, std::size_t len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (len == 1) return b0 < 0x80 ? b0 : 0xFFFD;  // Go decodes a stray byte as RuneError
  std::uint32_t cp = b0 & (0xFF >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

tl::unexpected<Error> bad_pattern(std::string_view text, std::string_view why) {
  return fail(ErrorKind::invalid_argument,
              "syntax error in pattern \"" + std::string(text) + "\": " + std::string(why));
}

int count_slashes(std::string_view s) { return static_cast<int>(std::count(s.begin(), s.end(), '/')); }

}  // namespace

std::string clean_path(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view part = path.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

bool IgnorePattern::Class::contains(std::uint32_t cp) const {
  bool in = false;
  for (const Range& r : ranges) {
    if (r.lo <= cp && cp <= r.hi) {
      in = true;
      break;
    }
  }
  return in != negated;
}

// Parses a class the way filepath.Match validates it; returns the position after ']', or npos.
std::size_t IgnorePattern::parse_class(std::string_view text, std::size_t pos) {
  Class cls;
  if (pos < text.size() && text[pos] == '^') {
    cls.negated = true;
    ++pos;
  }
  auto get_esc = [&](std::uint32_t& out) {
    if (pos >= text.size() || text[pos] == '-' || text[pos] == ']') return false;
    if (text[pos] == '\\' && ++pos >= text.size()) return false;
    const std::size_t len = utf8_length(text, pos);
    if (len == 1 && static_cast<unsigned char>(text[pos]) >= 0x80) return false;
    out = decode_rune(text, pos, len);
    pos += len;
    return pos < text.size();  // the class must still be closed
  };
  while (true) {
    if (pos < text.size() && text[pos] == ']' && !cls.ranges.empty()) {
      ++pos;
      break;
    }
    Range r{};
    if (!get_esc(r.lo)) return std::string_view::npos;
    r.hi = r.lo;
    if (text[pos] == '-') {
      ++pos;
      if (!get_esc(r.hi)) return std::string_view::npos;
    }
    cls.ranges.push_back(r);
  }
  m_classes.push_back(std::move(cls));
  return pos;
}

Result<IgnorePattern> IgnorePattern::compile(std::string_view text) {
  IgnorePattern p;
  p.m_text = std::string(text);
  const std::size_t n = text.size();
  std::size_t pos = 0;
  bool first = true;
  for (; pos < n; first = false) {
    const char c = text[pos++];
    if (c == '*') {
      if (pos < n && text[pos] == '*') {
        ++pos;
        if (pos < n && text[pos] == '/') ++pos;  // "**/" is read as "**"
        if (pos >= n) {
          if (p.m_type == Type::exact) {
            p.m_type = Type::prefix;
          } else {
            p.m_tokens.push_back({Kind::dstar_end, 0});
            p.m_type = Type::glob;
          }
        } else {
          p.m_tokens.push_back({Kind::dstar_entry, 0});
          p.m_tokens.push_back({Kind::dstar_inside, 0});
          p.m_type = Type::glob;
        }
        if (first) p.m_type = Type::suffix;
      } else {
        p.m_tokens.push_back({Kind::star, 0});
        p.m_type = Type::glob;
      }
    } else if (c == '?') {
      p.m_tokens.push_back({Kind::any, 0});
      p.m_type = Type::glob;
    } else if (c == '\\') {
      if (pos >= n) return bad_pattern(text, "trailing backslash");
      p.m_tokens.push_back({Kind::literal, text[pos++]});
      p.m_type = Type::glob;
    } else if (c == '[') {
      if (p.m_classes.size() >= 0xFFFF) return bad_pattern(text, "too many classes");
      const std::size_t end = p.parse_class(text, pos);
      if (end == std::string_view::npos) return bad_pattern(text, "malformed character class");
      p.m_tokens.push_back({Kind::cls, 0, static_cast<std::uint16_t>(p.m_classes.size() - 1)});
      pos = end;
      p.m_type = Type::glob;
    } else if (c == ']') {
      p.m_tokens.push_back({Kind::literal, c});
      p.m_type = Type::glob;
    } else {
      p.m_tokens.push_back({Kind::literal, c});
    }
  }

  switch (p.m_type) {
    case Type::exact:
      p.m_literal = p.m_text;
      p.m_slashes = count_slashes(p.m_text);
      break;
    case Type::prefix:
      p.m_literal = p.m_text.substr(0, p.m_text.size() - 2);
      break;
    case Type::suffix:
      p.m_literal = p.m_text.substr(2);
      break;
    case Type::glob: {
      bool fixed = true;
      int slashes = 0;
      for (const Token& t : p.m_tokens) {
        if (t.kind == Kind::literal) {
          ++p.m_min_length;
          slashes += t.byte == '/';
        } else if (t.kind == Kind::any) {
          ++p.m_min_length;
        } else if (t.kind == Kind::cls) {
          ++p.m_min_length;
          if (p.m_classes[t.cls].contains('/')) fixed = false;
        } else if (t.kind != Kind::star) {
          fixed = false;
        }
      }
      p.m_slashes = fixed ? slashes : -1;
      for (const Token& t : p.m_tokens) {
        if (t.kind != Kind::literal) break;
        p.m_lit_prefix += t.byte;
      }
      for (auto it = p.m_tokens.rbegin(); it != p.m_tokens.rend() && it->kind == Kind::literal; ++it) {
        p.m_lit_suffix.insert(p.m_lit_suffix.begin(), it->byte);
      }
      std::string run;
      for (const Token& t : p.m_tokens) {
        if (t.kind == Kind::literal) {
          run += t.byte;
          if (run.size() > p.m_required.size()) p.m_required = run;
        } else {
          run.clear();
        }
      }
      const std::size_t m = p.m_tokens.size();
      if (m < 64) {
        p.m_eps.assign(m + 1, 0);
        for (std::size_t t = m + 1; t-- > 0;) {
          std::uint64_t set = std::uint64_t{1} << t;
          if (t < m) {
            const Kind k = p.m_tokens[t].kind;
            if (k == Kind::star || k == Kind::dstar_end) set |= p.m_eps[t + 1];
            if (k == Kind::dstar_entry) set |= p.m_eps[t + 2];
          }
          p.m_eps[t] = set;
        }
      }
      break;
    }
  }
  return p;
}

std::uint64_t IgnorePattern::closure(std::uint64_t set) const {
  std::uint64_t out = 0;
  while (set != 0) {
    const int t = __builtin_ctzll(set);
    set &= set - 1;
    out |= m_eps[t];
  }
  return out;
}

bool IgnorePattern::run(std::string_view input, bool prefix_only) const {
  return m_eps.empty() ? run_table(input, prefix_only) : run_small(input, prefix_only);
}

bool IgnorePattern::run_small(std::string_view input, bool prefix_only) const {
  const std::size_t m = m_tokens.size();
  const std::size_t n = input.size();
  std::uint64_t ring[4] = {m_eps[0], 0, 0, 0};  // state sets at positions p .. p+3
  for (std::size_t p = 0; p < n; ++p) {
    const std::uint64_t cur = ring[p & 3] & ~(std::uint64_t{1} << m);
    ring[p & 3] = 0;
    if (cur == 0) {
      if ((ring[0] | ring[1] | ring[2] | ring[3]) == 0) return false;
      continue;
    }
    const char c = input[p];
    std::uint64_t next = 0;
    for (std::uint64_t set = cur; set != 0; set &= set - 1) {
      const int t = __builtin_ctzll(set);
      const Token& tok = m_tokens[t];
      const std::uint64_t after = std::uint64_t{1} << (t + 1);
      switch (tok.kind) {
        case Kind::literal:
          if (c == tok.byte) next |= after;
          break;
        case Kind::any:
        case Kind::cls: {
          const std::size_t len = utf8_length(input, p);
          const bool ok = tok.kind == Kind::any ? c != '/'
                                                : m_classes[tok.cls].contains(decode_rune(input, p, len));
          if (!ok) break;
          if (len == 1) {
            next |= after;
          } else {
            ring[(p + len) & 3] |= closure(after);
          }
          break;
        }
        case Kind::star:
          if (c != '/') next |= std::uint64_t{1} << t;
          break;
        case Kind::dstar_entry:
          next |= after;
          if (c == '/') next |= std::uint64_t{1} << (t + 2);
          break;
        case Kind::dstar_inside:
          next |= std::uint64_t{1} << t;
          if (c == '/') next |= after;
          break;
        case Kind::dstar_end:
          next |= std::uint64_t{1} << t;
          break;
      }
    }
    ring[(p + 1) & 3] |= closure(next);
  }
  const std::uint64_t final_set = ring[n & 3];
  return prefix_only ? final_set != 0 : (final_set >> m) & 1;
}

// The same automaton over a (positions × states) table, for patterns of 64 tokens or more.
bool IgnorePattern::run_table(std::string_view input, bool prefix_only) const {
  const std::size_t m = m_tokens.size();
  const std::size_t n = input.size();
  const std::size_t w = m + 1;
  std::vector<char> reach((n + 1) * w, 0);
  auto add = [&](std::size_t pos, std::size_t t) {
    std::vector<std::size_t> todo{t};
    while (!todo.empty()) {
      const std::size_t s = todo.back();
      todo.pop_back();
      if (reach[pos * w + s]) continue;
      reach[pos * w + s] = 1;
      if (s == m) continue;
      const Kind k = m_tokens[s].kind;
      if (k == Kind::star || k == Kind::dstar_end) todo.push_back(s + 1);
      if (k == Kind::dstar_entry) todo.push_back(s + 2);
    }
  };
  add(0, 0);
  for (std::size_t p = 0; p < n; ++p) {
    const char c = input[p];
    for (std::size_t t = 0; t < m; ++t) {
      if (!reach[p * w + t]) continue;
      const Token& tok = m_tokens[t];
      switch (tok.kind) {
        case Kind::literal:
          if (c == tok.byte) add(p + 1, t + 1);
          break;
        case Kind::any:
        case Kind::cls: {
          const std::size_t len = utf8_length(input, p);
          const bool ok = tok.kind == Kind::any ? c != '/'
                                                : m_classes[tok.cls].contains(decode_rune(input, p, len));
          if (ok) add(p + len, t + 1);
          break;
        }
        case Kind::star:
          if (c != '/') add(p + 1, t);
          break;
        case Kind::dstar_entry:
          add(p + 1, t + 1);
          if (c == '/') add(p + 1, t + 2);
          break;
        case Kind::dstar_inside:
          add(p + 1, t);
          if (c == '/') add(p + 1, t + 1);
          break;
        case Kind::dstar_end:
          add(p + 1, t);
          break;
      }
    }
  }
  if (!prefix_only) return reach[n * w + m] != 0;
  return std::any_of(reach.begin() + n * w, reach.end(), [](char v) { return v != 0; });
}

bool IgnorePattern::matches(std::string_view path) const { return match_impl(path, -1); }

bool IgnorePattern::match_impl(std::string_view path, int slashes) const {
  switch (m_type) {
    case Type::exact:
      return path == m_literal;
    case Type::prefix:
      return path.starts_with(m_literal);
    case Type::suffix:
      if (path.ends_with(m_literal)) return true;
      return m_literal.front() == '/' && path == std::string_view(m_literal).substr(1);
    case Type::glob:
      if (path.size() < m_min_length || !path.starts_with(m_lit_prefix) ||
          !path.ends_with(m_lit_suffix)) {
        return false;
      }
      if (m_slashes >= 0) {
        if (slashes < 0) slashes = count_slashes(path);
        if (slashes != m_slashes) return false;
      }
      if (m_required.size() > 1 && path.find(m_required) == std::string_view::npos) return false;
      return run(path, false);
  }
  return false;
}

bool IgnorePattern::matches_self_or_parent(std::string_view path) const {
  std::vector<std::uint32_t> slashes;
  for (std::size_t i = path.find('/'); i != std::string_view::npos; i = path.find('/', i + 1)) {
    slashes.push_back(static_cast<std::uint32_t>(i));
  }
  return matches_self_or_parent(path, slashes);
}

bool IgnorePattern::matches_self_or_parent(std::string_view path,
                                           std::span<const std::uint32_t> slashes) const {
  const int count = static_cast<int>(slashes.size());
  if (m_slashes >= 0) {
    // Every match has exactly m_slashes separators: only the path itself or the one parent
    // with that many can match.
    if (count == m_slashes) return match_impl(path, count);
    if (count > m_slashes) return match_impl(path.substr(0, slashes[m_slashes]), m_slashes);
    return false;
  }
  // Parents are prefixes of the path: a literal every match contains must occur in the path, and
  // only parents long enough to hold its first occurrence can match.
  std::size_t shortest = 0;
  if (m_type == Type::suffix || m_type == Type::glob) {
    std::string_view needle = m_type == Type::suffix ? std::string_view(m_literal) : m_required;
    if (m_type == Type::suffix && needle.starts_with('/')) needle.remove_prefix(1);
    const std::size_t at = path.find(needle);
    if (at == std::string_view::npos) return false;
    shortest = at + needle.size();
  }
  if (match_impl(path, count)) return true;
  if (m_type == Type::prefix) return false;  // a parent starts with the literal only if path does
  for (int j = 0; j < count; ++j) {
    if (slashes[j] >= shortest && match_impl(path.substr(0, slashes[j]), j)) return true;
  }
  return false;
}

bool IgnorePattern::may_match_below(std::string_view dir) const {
  std::string below(dir);
  below += '/';
  switch (m_type) {
    case Type::exact:
      return m_literal.starts_with(below);
    case Type::prefix:
      return below.starts_with(m_literal) || m_literal.starts_with(below);
    case Type::suffix:
      return true;  // "<dir>/x<suffix>" always exists
    case Type::glob:
      return run(below, true);
  }
  return true;
}

}  // namespace strata::dockerfile
