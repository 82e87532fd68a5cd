// Evidence: what stat() cannot tell about an entry: its extended attributes and, for a regular
// file, a SHA-256 of its content. Snapshots read it only for entries whose ctime moved while
// everything else stat() reports stayed equal (see docs/snapshots.md), never for the whole tree.
//
// Errors: not_found if the entry vanished, io/denied otherwise, naming the path.
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fs/file_meta.hpp"
#include "util/result.hpp"

namespace strata::fs {

struct Evidence {
  std::uint64_t ino = 0;
  std::string xattrs;   // sorted "name\0value-length\0value" records
  std::string content;  // hex SHA-256 of a regular file's bytes; empty for other types

  friend bool operator==(const Evidence&, const Evidence&) = default;
};

// Path → evidence, looked up by string_view without building a std::string.
struct EvidencePathHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
};
using EvidenceMap = std::unordered_map<std::string, Evidence, EvidencePathHash, std::equal_to<>>;

// Extended attributes of path (not following a final symlink), sorted by name, as Evidence::xattrs.
Result<std::string> read_xattrs(const std::string& path);

// Reads the evidence of the entry at path, whose lstat() is meta. bytes_hashed, if given, is
// increased by the number of content bytes read.
Result<Evidence> read_evidence(const std::string& path, const FileMeta& meta,
                               std::uint64_t* bytes_hashed = nullptr);

}  // namespace strata::fs
