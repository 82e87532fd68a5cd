// Word expansion for Dockerfile instructions: the equivalent of BuildKit's shell.Lex
// (frontend/dockerfile/shell/lex.go), ProcessWord and ProcessWords.
//
// What a word goes through, as in BuildKit:
//   - quotes are removed: '...' keeps everything literally (no escape, no $), "..." expands $ and
//     lets the escape character escape only `"`, `$` and itself (any other escape stays literal);
//   - outside quotes the escape character (`\`, or `` ` `` with `# escape=``) makes the next
//     character literal; an escape at the very end of the word is dropped;
//   - `$NAME`, `${NAME}` and the modifiers `${N:-w}` `${N-w}` `${N:+w}` `${N+w}` `${N:?msg}`
//     `${N?msg}` (the ':' forms treat an empty value as unset), the patterns `${N#p}` `${N##p}`
//     `${N%p}` `${N%%p}` `${N/p/r}` `${N//p/r}` (p: `*` and `?`, `\` escapes; `*` and `?` do not
//     match a newline, as in BuildKit's regexp translation). The word after a modifier is itself
//     expanded (nesting), with escapes kept raw for patterns;
//   - `$` followed by something that is not a name (`$.`, `$` at the end) stays literal; `$1` and
//     the special parameters `$@ $* $# $? $- $$ $! $0` are looked up like names (normally unset);
//   - names are letters, digits and `_`; like Go's unicode.IsLetter, letters include non-ASCII
//     ones (approximated: every code point >= 0x80 outside the common punctuation/symbol blocks).
// Errors: `${` not closed, `${}`, `${:x}`, an unknown modifier (`${N=x}`, `${N:=x}`), an
// unterminated quote, `${N:?msg}` on an unset/empty N. Bytes that are not valid UTF-8 are passed
// through unchanged (BuildKit would replace them with U+FFFD).
//
// Thread safety: the functions are pure apart from calling `lookup`, synchronously.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::dockerfile {

// Returns the value of a variable, or nullopt when it is unset (which differs from "" for the
// `-`, `+` and `?` modifiers without ':').
using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

struct Expanded {
  std::string value;
  std::vector<std::string> used;  // names looked up (set or not), in order of first use, unique
};

// BuildKit's ProcessWord: quotes removed, escapes processed, $VAR/${VAR...} substituted.
// Whitespace is kept. Errors: invalid_argument, the message names the word
// (`failed to process "${X:?}": X: is not allowed to be unset`); the caller adds file:line.
Result<Expanded> expand_word(std::string_view word, const Lookup& lookup, char escape = '\\');

// The body of an unquoted COPY/ADD heredoc (`COPY <<EOT /dst`), as BuildKit's ExpandRaw: like
// expand_word with `\` as escape character, but quotes are ordinary characters (SkipProcessQuotes),
// so `"${NAME}"` keeps its quotes and expands NAME. A quoted marker (`<<'EOT'`) is not expanded.
Result<Expanded> expand_heredoc(std::string_view body, const Lookup& lookup);

// BuildKit's ProcessWords: as expand_word, then splits into words on whitespace that is neither
// quoted, escaped, nor part of a quoted string; whitespace coming from an unquoted variable value
// does split. An empty quoted string ("") does not make a word, as in BuildKit.
Result<std::vector<std::string>> expand_words(std::string_view text, const Lookup& lookup,
                                              char escape = '\\');

// Convenience: a Lookup over "KEY=VALUE" strings (the image config's Env form); a later entry
// for the same key wins, an entry without '=' is set to "". The vector must outlive the Lookup.
Lookup lookup_from_env(const std::vector<std::string>& env);

}  // namespace strata::dockerfile
