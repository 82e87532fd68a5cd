// ADD of a local archive: docker's isArchivePath + Untar. A regular file is an archive when,
// after decompression (gzip, bzip2, xz, zstd or none, told by content, never by name), its first
// 512 bytes are a valid tar header (checksum matches); an empty or zero-filled file is not.
// Anything else is copied as a plain file. Never applied to COPY or to ADD <url>.
//
// Extraction goes through archive::apply_layer into the destination directory, opened inside
// the build root first, so entries keep their tar ownership, modes, mtimes and xattrs as docker's
// Untar does. Deliberate differences: entries climbing above the destination ("../x") are refused
// rather than clamped; symlinks inside the archive resolve relative to the destination directory;
// `.wh.` entries act as whiteouts (docker's Untar writes them literally).
// Thread safety: pure functions over caller-owned descriptors.
#pragma once

#include <memory>
#include <string>

#include "archive/root_dir.hpp"
#include "archive/stream.hpp"
#include "util/result.hpp"

namespace strata::build {

// Reads from the start of `fd` (pread, the offset is untouched). Errors: io.
Result<bool> is_tar_archive(int fd);

// A Source of the decompressed bytes of `fd` (any of the formats above), read from offset 0.
Result<std::unique_ptr<archive::Source>> open_any_decompressed(int fd, std::string name);

// Extracts the archive `fd` into the directory `dest_rel` of `root` (created 0755 if missing).
Result<void> extract_archive(int fd, const std::string& name, const archive::RootDir& root,
                             const std::string& dest_rel);

}  // namespace strata::build
