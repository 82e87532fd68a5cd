// The exec (JSON) form of Dockerfile instructions: `CMD ["a", "b"]`.
//
// BuildKit decides between exec and shell form with Go's json.Unmarshal into []interface{}, so the
// accepted language is exactly Go's JSON: a document that does not start with '[' or is not valid
// JSON falls back to the shell form (single quotes, unterminated brackets, trailing text), while a
// valid array holding anything but strings is an error. Go's decoder replaces invalid UTF-8 and
// lone surrogate escapes with U+FFFD instead of failing, and so does this one. Nesting deeper than
// Go's limit (10000) counts as invalid.
//
// Internal to common/dockerfile/. Pure, thread-safe, non-recursive (bounded stack use on any input).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata::dockerfile::detail {

enum class JsonArray {
  strings,      // a JSON array of strings; `out` holds them
  not_array,    // the text does not start with '[' (after leading white space)
  invalid,      // not valid JSON
  not_strings,  // valid JSON array with a non-string element
};

JsonArray parse_json_string_array(std::string_view text, std::vector<std::string>& out);

}  // namespace strata::dockerfile::detail
