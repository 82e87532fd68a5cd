// `--chmod` and `--chown` of COPY/ADD.
//
// --chmod: numeric ("0755", up to 07777) replaces all permission bits, setuid/setgid/sticky
// included (BuildKit's early releases dropped those; users who write 4755 mean it). Symbolic
// (BuildKit >= 1.6 / fsutil's mode parser, GNU chmod grammar): comma-separated clauses
// `[ugoa]*[+-=][rwxXst]*` (or `[+-=][ugo]` to copy a class), several operators per clause
// allowed; no `who` means `a` (no umask, as BuildKit); `X` adds x only for directories or when
// some x bit is already set.
//
// --chown "user[:group]": a number is an id; a name is looked up in the image's /etc/passwd
// (group names in /etc/group), both read inside the build root with symlinks resolved there.
// Without a group, a named user gets its primary group from passwd; a numeric user gets the
// same number as gid (BuildKit's readUser: ByID sets UID and GID). An unknown name is an error
// (BuildKit silently maps it to 0, which hides typos as root-owned files).
// Thread safety: pure functions, resolve_owner() only reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "archive/root_dir.hpp"
#include "dockerfile/instructions.hpp"
#include "util/result.hpp"

namespace strata::build {

// Checks a --chmod value. Errors: invalid_argument naming it.
Result<void> validate_chmod(const dockerfile::Chmod& chmod);

// The mode (07777 bits) that `chmod` gives an object whose current bits are `mode`.
Result<std::uint32_t> apply_chmod(const dockerfile::Chmod& chmod, std::uint32_t mode, bool is_dir);

struct Owner {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  friend bool operator==(const Owner&, const Owner&) = default;
};

// Resolves a --chown spec against the image root. Errors: invalid_argument for an empty or
// malformed spec, not_found for an unknown user or group name (naming it and the file).
Result<Owner> resolve_owner(const archive::RootDir& image_root, std::string_view spec);

}  // namespace strata::build
