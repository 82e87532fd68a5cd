// hash_tree_entries: one SHA-256 over a set of entries of a tree, for build cache keys (COPY/ADD
// sources, RUN --mount inputs). It covers what ends up in an image — path, type, permission
// bits, uid/gid, content, symlink target, device number — and deliberately not mtime, ctime or
// inode numbers, so that a fresh checkout of the same files gives the same key.
//
// Record format (fed to the hasher per entry, in order; every field NUL-terminated so that no
// two different sequences of entries give the same byte stream):
//   path \0 type \0 perm(octal) \0 uid \0 gid \0 payload-length \0 payload
// where payload is a regular file's bytes, a symlink's target, "major:minor" of a device, and
// empty otherwise. A directory named in `paths` is followed by all of its descendants, in
// path_less() order, with paths joined below it.
//
// Paths are relative to root and resolved as if root were "/" (openat2 RESOLVE_IN_ROOT): a
// symlink in a parent component cannot lead outside root; the final component is never followed.
//
// Errors: invalid_argument for ".." or an empty path, not_found if an entry is missing,
// unsupported if the kernel lacks openat2, io/denied otherwise. Thread safety: reentrant.
#pragma once

#include <string>
#include <vector>

#include "digest/digest.hpp"
#include "util/result.hpp"

namespace strata::fs {

// Entries are hashed in the order given: callers that want order-independence sort first.
Result<digest::Digest> hash_tree_entries(const std::string& root, const std::vector<std::string>& paths);

}  // namespace strata::fs
