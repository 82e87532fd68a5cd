// A fast, allocation-light directory walker: openat + getdents64 + fstatat, never following
// symlinks, one open descriptor per level of depth. Used by snapshots (the whole build root after
// every step), by cache keys and by the build-context walker (.dockerignore).
//
// Order: pre-order (a directory before its children); the children of a directory are visited
// in bytewise name order, so the sequence of relative paths is sorted by path_less() (paths
// compared component by component). Two walks of the same tree give the same sequence.
//
// Errors: the root must be a directory (not_found / io / denied otherwise). An entry that
// vanishes between reading its directory and stat'ing or opening it (a concurrent writer) is
// skipped silently; any other failure to read a directory stops the walk with an error naming
// the path. Thread safety: walk() is reentrant; the callback runs on the calling thread.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace strata::fs {

enum class WalkAction {
  proceed,       // continue; for a directory, descend into it
  skip_subtree,  // continue, but do not descend into this directory
  stop,          // end the walk now; walk() returns success
};

struct WalkEntry {
  std::string_view path;  // relative to the root, '/'-separated, no leading '/'; valid in the callback only
  std::string_view name;  // last component of path
  const struct stat& st;  // lstat() of the entry
  int parent_fd;          // open descriptor of the containing directory (for *at() calls in the callback)
  int depth;              // 1 for the root's children
  bool mount_point;       // st_dev differs from the root's
};

struct WalkOptions {
  // Do not descend into directories on another file system than the root (they are still
  // reported, with mount_point set), as `find -xdev`.
  bool one_filesystem = true;
};

using WalkCallback = std::function<WalkAction(const WalkEntry&)>;

// Walks everything below root (the root itself is not reported).
Result<void> walk(const std::string& root, const WalkOptions& options, const WalkCallback& callback);

// As walk(), below an open directory descriptor, which stays owned by the caller. The walk reads
// root_fd's entries from its current offset: pass a descriptor opened for this walk.
// display_name only appears in error messages.
Result<void> walk_at(int root_fd, const std::string& display_name, const WalkOptions& options,
                     const WalkCallback& callback);

// Strict weak order of relative paths, component by component: "a" < "a/b" < "a-b" (because a
// separator sorts before every byte a name may contain). Parents sort before their children and
// every subtree is contiguous, which is what a layer needs.
bool path_less(std::string_view a, std::string_view b);
int path_compare(std::string_view a, std::string_view b);

// True if path is equal to prefix or lies below it ("a/b" is under "a", "ab" is not).
bool path_is_under(std::string_view path, std::string_view prefix);

}  // namespace strata::fs
