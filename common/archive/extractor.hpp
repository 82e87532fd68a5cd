// Applying a layer blob onto a root directory, as containerd and docker apply layers to a
// snapshot: the blob is decompressed (format detected from its magic), read as tar, and every
// entry is created inside the root through RootDir (symlinks resolved as if chroot()ed), with
// whiteouts deleting what lower layers put there. See docs/layers.md for the rules.
//
// Errors: corrupt (naming the entry) for hostile or malformed input: paths that climb out of the
// root, hardlinks to outside, exceeded limits, damaged compression; io/denied/no_space for the file
// system. On error the root is left partially applied; the caller discards it.
// Thread safety: one call per root at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "archive/compression.hpp"
#include "archive/root_dir.hpp"
#include "archive/stream.hpp"
#include "archive/tar_reader.hpp"
#include "digest/digest.hpp"
#include "util/result.hpp"

namespace strata::archive {

enum class Ownership { preserve, ignore };  // ignore: leave files owned by the extracting user

struct ExtractOptions {
  ReaderLimits limits;
  DecompressOptions decompress;
  // Paths inside the root that the layer must not touch (the executor's own directory, /proc,
  // /sys, /dev when building in place). Matched lexically on cleaned names: an entry equal to or
  // below one of them is skipped, whiteouts included.
  std::vector<std::string> ignore_paths;
  Ownership ownership = Ownership::preserve;
  ResolveMode resolve = ResolveMode::automatic;
};

struct ExtractStats {
  std::uint64_t entries = 0;
  std::uint64_t whiteouts = 0;  // including opaque markers
  std::uint64_t skipped = 0;    // ignored paths, sockets, the root entry itself
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  Compression compression = Compression::none;
  digest::Digest digest;   // sha256 of the blob as read
  digest::Digest diff_id;  // sha256 of the uncompressed tar
};

// Reads `blob` to its end and applies it onto the directory `root`, which must exist.
Result<ExtractStats> apply_layer(Source& blob, const std::string& root, const ExtractOptions& options = {});

}  // namespace strata::archive
