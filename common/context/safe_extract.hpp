// Unpacking a context archive (tar, tar.gz, tar.zst: told by content, never by
// name).
//
// A context comes from outside, so before anything is written the archive is
// read once and refused (ErrorKind::corrupt, naming the context and the entry)
// when an entry
//   - has an absolute name ("/etc/passwd"), or a name whose ".." climbs above
//   the root,
//   - is a symlink whose target is absolute or climbs above the root from where
//   the link is,
//   - is a hardlink whose target climbs above the root, or is a device node.
// Layers may hold all of these (the extractor clamps them into the root); a
// build context has no reason to, and a CI system handing one over may be under
// attack. A file that is not a tar at all (or an empty archive) is refused as
// "not a tar archive". Extraction itself then goes through
// archive::apply_layer, so the layer extractor's path safety (RootDir, openat2
// RESOLVE_IN_ROOT) holds as a second line.
//
// Thread safety: one call per destination at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace strata::context {

struct ExtractSummary {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0; // uncompressed file bytes
};

// Validates then extracts the archive file `path` into the existing directory
// `dest`. `what`
// ("context tar:///x.tgz") prefixes every error.
Result<ExtractSummary> extract_context_archive(const std::string &path,
                                               const std::string &dest,
                                               const std::string &what);

// The entry checks alone, on an uncompressed tar entry (exposed for unit
// tests): "" when the entry is acceptable, else the reason.
std::string unsafe_entry_reason(std::string_view name, bool is_symlink,
                                bool is_hardlink, bool is_device,
                                std::string_view link_target);

} // namespace strata::context
