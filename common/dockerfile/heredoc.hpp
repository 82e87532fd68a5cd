// Heredoc detection inside an instruction line (BuildKit's heredocsFromLine / ParseHeredoc).
//
// The line is split into shell words keeping quotes and escapes; each word of the form
// `[fd]<<[-]DELIM` names a heredoc. DELIM is unquoted as a shell word (it must be one word); when
// any part of it was quoted, the body is not subject to variable expansion (`expand == false`).
//
// Internal to common/dockerfile/.
#pragma once

#include <string_view>
#include <vector>

#include "dockerfile/ast.hpp"
#include "util/result.hpp"

namespace strata::dockerfile::detail {

// Errors: a delimiter with an unterminated quote.
Result<std::vector<Heredoc>> heredocs_from_line(std::string_view line);

// As parse_heredoc_word, but reporting a malformed delimiter as an error.
Result<bool> parse_heredoc_word_checked(std::string_view word, Heredoc& out);

}  // namespace strata::dockerfile::detail
