// Helpers for the fs tests: a temp dir that survives a failing test (and says where), and
// small wrappers that make a tree in one line each. Every helper asserts via gtest.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/temp_dir.hpp"
#include "fs/snapshot.hpp"

namespace strata::fs::testing {

// The shared temp dir (tests/unit/temp_dir.hpp), named after this folder's tests.
class TempDir : public unit::TempDir {
 public:
  TempDir() : unit::TempDir("strata-fs") {}
};

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

inline void make_dirs(const std::string& path) { std::filesystem::create_directories(path); }

inline struct stat lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

// Sets mtime (and atime) of path, not following symlinks.
inline void set_mtime(const std::string& path, const struct timespec& mtime) {
  struct timespec times[2] = {mtime, mtime};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

inline const Change* find_change(const std::vector<Change>& changes, const std::string& path) {
  for (const Change& c : changes) {
    if (c.path == path) return &c;
  }
  return nullptr;
}

// "path:kind" for every change, in order: compact to compare in an assertion.
inline std::vector<std::string> summary(const std::vector<Change>& changes) {
  std::vector<std::string> out;
  for (const Change& c : changes) {
    std::string s = c.path + ":" + std::string(to_string(c.kind));
    if (!c.hardlink_to.empty()) s += "->" + c.hardlink_to;
    out.push_back(s);
  }
  return out;
}

// The same options a test wants nearly always: no default ignores that would hide the tree.
inline SnapshotOptions options_for(SnapshotMode mode) {
  SnapshotOptions o;
  o.mode = mode;
  return o;
}

}  // namespace strata::fs::testing
