// BuildKit's per-instruction line parsers (parser/line_parsers.go, split_command.go): how the text
// after an instruction keyword becomes flags and arguments. See ast.hpp for the shapes produced.
//
// Internal to common/dockerfile/. Errors carry no location; parser.cpp prefixes "FILE:LINE: ".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dockerfile/ast.hpp"
#include "util/result.hpp"

namespace strata::dockerfile::detail {

// Builds the node for one logical line: keyword, flags, arguments (and ONBUILD's child).
// Location, comments and heredocs are the caller's business.
Result<Node> node_from_line(std::string_view line, char escape);

// Splits into words on unquoted white space, keeping quotes and escapes (parseWords).
std::vector<std::string> parse_words(std::string_view rest, char escape);

// Separates the leading `--flag[=value]` words from the rest (extractBuilderFlags).
std::string_view extract_builder_flags(std::string_view line, std::vector<std::string>& flags);

}  // namespace strata::dockerfile::detail
