// Internal to common/archive: the one place ARCHIVE_* results become strata::Error.
#pragma once

#include <string_view>

#include "util/result.hpp"

struct archive;

namespace strata::archive::detail {

// Builds an Error from libarchive's last error on `a`. Format errors become `fallback`
// (corrupt when reading, internal when writing); errno-carrying errors go through errno_error.
Error archive_error(::archive* a, std::string_view what, ErrorKind fallback);

}  // namespace strata::archive::detail
