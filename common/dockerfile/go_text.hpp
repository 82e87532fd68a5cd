// Text helpers that reproduce Go's standard library where BuildKit's parser depends on it, so that
// our parse matches BuildKit's byte for byte: unicode.IsSpace, strings.TrimSpace,
// utf8.DecodeRuneInString (invalid bytes decode to U+FFFD, width 1) and strconv.Quote.
//
// Internal to common/dockerfile/. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace strata::dockerfile::detail {

struct Rune {
  char32_t value;
  std::size_t width;  // bytes consumed, >= 1 unless the input was empty
  bool valid;         // false: an invalid byte, value is U+FFFD
};

Rune decode_rune(std::string_view text);
void append_rune(std::string& out, char32_t rune);

// Go's unicode.IsSpace.
bool is_space(char32_t rune);
// unicode.IsSpace(rune(b)) on a single byte, as BuildKit's byte-wise loops do: besides ASCII
// blanks this holds for 0x85 and 0xA0.
inline bool is_space_byte(unsigned char b) {
  return b == ' ' || (b >= '\t' && b <= '\r') || b == 0x85 || b == 0xA0;
}
// Go's `[\t\v\f\r ]` regexp class (reWhitespace), no newline.
inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

std::string_view trim_left_space(std::string_view text);
std::string_view trim_space(std::string_view text);  // strings.TrimSpace

// strconv.Quote.
std::string go_quote(std::string_view text);

std::string to_lower(std::string_view text);
std::string to_upper(std::string_view text);
bool iequals(std::string_view a, std::string_view b);

}  // namespace strata::dockerfile::detail
