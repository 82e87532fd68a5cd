// Internal to shell_lex: the shell patterns of ${N#p} ${N%p} ${N/p/r}.
//
// BuildKit translates these patterns to Go regular expressions (`*` → `.*`/`.*?`, `?` → `.`,
// `\*` `\?` `\\` literal, `\}` `\/` → `}` `/`, any other escape an error) and uses leftmost
// matching. Here the pattern is matched by a table-driven NFA instead, which gives the same
// results for these regex shapes: `#`/`%` remove the shortest (or, doubled, the longest) prefix or
// suffix that the pattern matches entirely, `/` replaces the leftmost-longest match; `*` and `?`
// do not match '\n' (Go's `.`), and `?` matches one UTF-8 character.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::dockerfile::detail {

class ShellPattern {
 public:
  // Errors: invalid_argument for an escape of anything but `*` `?` `\` `}` `/`, or a trailing `\`.
  static Result<ShellPattern> compile(std::string_view pattern);

  std::string trim_prefix(std::string_view value, bool longest) const;
  std::string trim_suffix(std::string_view value, bool longest) const;
  std::string replace(std::string_view value, std::string_view replacement, bool all) const;

 private:
  enum class Kind { literal, any, star };
  struct Token {
    Kind kind;
    char byte;
  };

  // Sets ends[e - start] = 1 for every e such that the pattern matches value[start, e).
  void match_ends(std::string_view value, std::size_t start, std::vector<char>& ends) const;
  // Leftmost match starting at or after `from`: its start and longest end; false if none.
  bool find(std::string_view value, std::size_t from, std::size_t& begin, std::size_t& end) const;

  std::vector<Token> m_tokens;
};

// Length of the UTF-8 sequence starting at s[i] (1 for an invalid or truncated one).
std::size_t utf8_length(std::string_view s, std::size_t i);

}  // namespace strata::dockerfile::detail
