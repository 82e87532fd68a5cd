#include "fs/walker.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "fs/tree_capture.hpp"
#include "unit/fs/fs_test_support.hpp"

namespace strata::fs {
namespace {

using testing::make_dirs;
using testing::TempDir;
using testing::write_file;
using Strings = std::vector<std::string>;

Strings walk_paths(const std::string& root, std::function<WalkAction(const WalkEntry&)> decide = nullptr) {
  Strings out;
  auto r = walk(root, WalkOptions{}, [&](const WalkEntry& e) {
    out.emplace_back(e.path);
    return decide ? decide(e) : WalkAction::proceed;
  });
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return out;
}

TEST(PathOrder, SeparatorSortsFirst) {
  EXPECT_TRUE(path_less("a", "a/b"));
  EXPECT_TRUE(path_less("a/b", "a-b"));
  EXPECT_TRUE(path_less("a/zzz", "a.b"));
  EXPECT_TRUE(path_less("a-b", "b"));
  EXPECT_FALSE(path_less("a", "a"));
  EXPECT_EQ(path_compare("x/y", "x/y"), 0);
  EXPECT_TRUE(path_is_under("a/b", "a"));
  EXPECT_TRUE(path_is_under("a", "a"));
  EXPECT_FALSE(path_is_under("ab", "a"));
  EXPECT_FALSE(path_is_under("a", "a/b"));
}

TEST(Walker, PreOrderSortedNoSymlinkFollowing) {
  TempDir t;
  make_dirs(t / "a/b");
  make_dirs(t / "a-b");
  write_file(t / "a/b/f", "x");
  write_file(t / "a.txt", "x");
  write_file(t / "z", "x");
  ASSERT_EQ(::symlink("a", (t / "link").c_str()), 0);
  ASSERT_EQ(::symlink("/", (t / "a/root").c_str()), 0);
  Strings paths = walk_paths(t.path());
  EXPECT_EQ(paths, (Strings{"a", "a/b", "a/b/f", "a/root", "a-b", "a.txt", "link", "z"}));
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end(), [](const auto& x, const auto& y) { return path_less(x, y); }));
}

TEST(Walker, SkipSubtreeAndStop) {
  TempDir t;
  make_dirs(t / "a/b");
  make_dirs(t / "c/d");
  write_file(t / "a/b/f", "x");
  write_file(t / "c/d/f", "x");
  EXPECT_EQ(walk_paths(t.path(), [](const WalkEntry& e) { return e.path == "a" ? WalkAction::skip_subtree : WalkAction::proceed; }),
            (Strings{"a", "c", "c/d", "c/d/f"}));
  EXPECT_EQ(walk_paths(t.path(), [](const WalkEntry& e) { return e.path == "a/b" ? WalkAction::stop : WalkAction::proceed; }),
            (Strings{"a", "a/b"}));
}

TEST(Walker, EntryCarriesStatDepthAndParentFd) {
  TempDir t;
  make_dirs(t / "a");
  write_file(t / "a/f", "hello");
  bool seen = false;
  auto r = walk(t.path(), WalkOptions{}, [&](const WalkEntry& e) {
    if (e.path == "a/f") {
      seen = true;
      EXPECT_EQ(e.name, "f");
      EXPECT_EQ(e.depth, 2);
      EXPECT_EQ(e.st.st_size, 5);
      EXPECT_FALSE(e.mount_point);
      struct stat st;
      EXPECT_EQ(::fstatat(e.parent_fd, "f", &st, AT_SYMLINK_NOFOLLOW), 0);
    }
    return WalkAction::proceed;
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(seen);
}

TEST(Walker, ErrorsNameThePath) {
  TempDir t;
  auto r = walk(t / "missing", WalkOptions{}, [](const WalkEntry&) { return WalkAction::proceed; });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind(), ErrorKind::not_found);
  EXPECT_NE(r.error().message().find("missing"), std::string::npos);
}

TEST(Walker, LargeDirectorySpanningSeveralReads) {
  TempDir t;
  for (int i = 0; i < 1500; ++i) write_file(t / ("file-with-a-long-name-" + std::to_string(i)), "");
  EXPECT_EQ(walk_paths(t.path()).size(), 1500u);  // ~70 KiB of dirents: two getdents64 calls
}

TEST(NormalizeImagePath, Forms) {
  EXPECT_EQ(*normalize_image_path("/var/run/"), "var/run");
  EXPECT_EQ(*normalize_image_path("./a//b/."), "a/b");
  EXPECT_FALSE(normalize_image_path("/").has_value());
  EXPECT_FALSE(normalize_image_path("a/../b").has_value());
}

}  // namespace
}  // namespace strata::fs
