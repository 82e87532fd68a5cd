// One .dockerignore pattern, compiled once, with moby/patternmatcher's exact semantics.
//
// patternmatcher turns a cleaned pattern into one of four matchers, and so does this class:
//   - exact:  no wildcard at all: the path must equal the pattern;
//   - prefix: a literal followed by a final `**` ("foo/**", "foo**"): the path starts with it;
//   - suffix: `**` followed by a literal ("**/foo", "**.go"): the path ends with the rest, or
//             equals it without its leading '/';
//   - glob:   everything else. patternmatcher builds a regexp; we run a small NFA over the path:
//             `*` = any run of non-'/' bytes, `?` = one character but '/', `[...]` one character
//             of a class (`^` negates, ranges `a-z`, `\` escapes; a class can match '/' like the
//             regexp does), `**/` (or `**` not at the end) = `(.*/)?`, a final `**` = `.*`,
//             `\c` = a literal c.
// Syntax errors are those of Go's filepath.Match, which patternmatcher calls to validate: an
// unclosed `[`, an empty class, a misplaced `-`, a trailing `\`.
// Deliberate differences from the regexp translation, all in patterns nobody writes on purpose:
// `\d`, `\w`, `\n`... mean the letter itself (not a regexp class or control character), `^`
// outside a class is a literal, and POSIX classes (`[[:alpha:]]`) are read as Go's filepath.Match
// reads them.
//
// Thread safety: immutable after compile(); matches() may be called from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::dockerfile {

// Go's filepath.Clean for '/'-separated paths: "a//b/./c/.." → "a/b", "" → ".", "/.." → "/".
std::string clean_path(std::string_view path);

class IgnorePattern {
 public:
  // `text` is one pattern without its '!' and already cleaned (see DockerIgnore). Errors:
  // invalid_argument naming the pattern.
  static Result<IgnorePattern> compile(std::string_view text);

  // Whether the pattern matches this path itself (no parent logic). `path` is relative, clean,
  // '/'-separated.
  bool matches(std::string_view path) const;
  // Whether it matches the path or one of its parent directories (patternmatcher's
  // MatchesOrParentMatches for a single pattern).
  bool matches_self_or_parent(std::string_view path) const;
  // The same, given the offsets of every '/' in path (computed once per path by DockerIgnore).
  bool matches_self_or_parent(std::string_view path, std::span<const std::uint32_t> slashes) const;
  // Whether some path strictly below `dir` could match (false means: no need to look inside).
  bool may_match_below(std::string_view dir) const;

  const std::string& text() const { return m_text; }

 private:
  enum class Type { exact, prefix, suffix, glob };
  enum class Kind : std::uint8_t { literal, any, cls, star, dstar_entry, dstar_inside, dstar_end };
  struct Token {
    Kind kind;
    char byte;             // literal
    std::uint16_t cls = 0;  // index into m_classes
  };
  struct Range {
    std::uint32_t lo;
    std::uint32_t hi;
  };
  struct Class {
    bool negated = false;
    std::vector<Range> ranges;
    bool contains(std::uint32_t cp) const;
  };

  // matches() when the number of '/' in path is known (or -1).
  bool match_impl(std::string_view path, int slashes) const;
  // Runs the NFA; with `prefix_only`, reports whether any state is alive after the whole input
  // instead of whether the accepting state is reached.
  bool run(std::string_view input, bool prefix_only) const;
  bool run_small(std::string_view input, bool prefix_only) const;
  bool run_table(std::string_view input, bool prefix_only) const;
  std::uint64_t closure(std::uint64_t set) const;
  std::size_t parse_class(std::string_view text, std::size_t pos);

  std::string m_text;
  Type m_type = Type::exact;
  std::string m_literal;  // exact: whole text; prefix: text without "**"; suffix: text after "**"
  std::vector<Token> m_tokens;
  std::vector<Class> m_classes;
  std::vector<std::uint64_t> m_eps;  // ε-closure of each state (small NFAs only)
  std::string m_lit_prefix;          // glob: literal bytes every match starts with
  std::string m_lit_suffix;          // glob: literal bytes every match ends with
  std::string m_required;            // glob: the longest literal run every match contains
  std::size_t m_min_length = 0;
  int m_slashes = -1;  // glob/exact: a match has exactly this many '/', or -1 if not fixed
};

}  // namespace strata::dockerfile
