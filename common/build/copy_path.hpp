// Source path rules of COPY/ADD (BuildKit's dockerfile2llb + fsutil's copy.ResolveWildcards):
//   - a source is normalised as path.Join("/", src): ".." cannot climb above the root, so
//     "COPY ../x" names "/x" of the context, as BuildKit does (the classic builder refused it);
//   - the path is split at the first component holding an unescaped wildcard (`*`, `?`, `[`):
//     the literal head is resolved inside the root (symlinks followed), the rest is matched
//     against every path below it with Go's filepath.Match (a wildcard never matches '/'), walking
//     in lexical order without following symlinks; a matching directory is not entered further.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "util/result.hpp"

namespace strata::build {

// path.Clean(path.Join("/", p)) without the leading '/': "" for the root.
std::string normalize_source(std::string_view p);

// Whether a path component holds an unescaped `*`, `?` or `[` (a backslash escapes).
bool contains_wildcards(std::string_view component);

// Splits a normalised relative path into (literal head, pattern tail); the tail is "" when the
// path has no wildcard.
std::pair<std::string, std::string> split_wildcards(std::string_view rel);

// Go's path/filepath.Match on '/'-separated paths. Errors: invalid_argument for a malformed
// pattern (unclosed class, trailing backslash), naming it.
Result<bool> go_path_match(std::string_view pattern, std::string_view name);

// Joins two clean relative paths ("" is the root).
std::string join_rel(std::string_view a, std::string_view b);

// Last component of a clean relative path ("" for the root).
std::string_view base_name(std::string_view rel);

}  // namespace strata::build
