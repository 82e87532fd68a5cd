#include "fs/tree_hash.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "unit/fs/fs_test_support.hpp"

namespace strata::fs {
namespace {

using testing::make_dirs;
using testing::set_mtime;
using testing::TempDir;
using testing::write_file;

std::string hash_of(const TempDir& t, const std::vector<std::string>& paths) {
  auto d = hash_tree_entries(t.path(), paths);
  EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message());
  return d ? d->str() : "";
}

void make_src(const TempDir& t) {
  make_dirs(t / "src/sub");
  write_file(t / "src/a", "alpha");
  write_file(t / "src/sub/b", "beta");
  ASSERT_EQ(::symlink("a", (t / "src/l").c_str()), 0);
}

TEST(TreeHash, IgnoresTimesButNotContentModeOrTarget) {
  TempDir t;
  make_src(t);
  const std::string base = hash_of(t, {"src"});
  EXPECT_EQ(base.rfind("sha256:", 0), 0u);
  set_mtime(t / "src/a", {1000, 0});
  EXPECT_EQ(hash_of(t, {"src"}), base) << "mtime must not matter";

  write_file(t / "src/sub/b", "betb");
  const std::string content = hash_of(t, {"src"});
  EXPECT_NE(content, base);

  ASSERT_EQ(::chmod((t / "src/a").c_str(), 0600), 0);
  const std::string mode = hash_of(t, {"src"});
  EXPECT_NE(mode, content);

  ASSERT_EQ(::unlink((t / "src/l").c_str()), 0);
  ASSERT_EQ(::symlink("sub/b", (t / "src/l").c_str()), 0);
  EXPECT_NE(hash_of(t, {"src"}), mode);
}

TEST(TreeHash, SameTreeElsewhereSameDigest) {
  TempDir t1, t2;
  make_src(t1);
  make_src(t2);
  EXPECT_EQ(hash_of(t1, {"src"}), hash_of(t2, {"src"}));
  EXPECT_EQ(hash_of(t1, {"src/a", "src/sub"}), hash_of(t2, {"/src/a", "./src/sub/"}));
  EXPECT_NE(hash_of(t1, {"src/a", "src/sub"}), hash_of(t1, {"src/sub", "src/a"})) << "order is part of the key";
}

TEST(TreeHash, NameIsPartOfTheRecord) {
  TempDir t;
  write_file(t / "ab", "");
  write_file(t / "a", "b");
  EXPECT_NE(hash_of(t, {"ab"}), hash_of(t, {"a"}));
}

TEST(TreeHash, ParentSymlinksResolveInsideRoot) {
  TempDir outside, t;
  write_file(outside / "secret", "s");
  make_dirs(t / "real");
  write_file(t / "real/secret", "inside");
  ASSERT_EQ(::symlink(outside.path().c_str(), (t / "escape").c_str()), 0);
  ASSERT_EQ(::symlink("/real", (t / "abs").c_str()), 0);
  // "abs" points to "/real", which resolves to <root>/real, never to the host's /real.
  auto via_link = hash_tree_entries(t.path(), {"abs/secret"});
  ASSERT_TRUE(via_link.has_value()) << via_link.error().message();
  // "escape" points to an absolute host path that does not exist inside root.
  auto escaped = hash_tree_entries(t.path(), {"escape/secret"});
  ASSERT_FALSE(escaped.has_value());
  EXPECT_EQ(escaped.error().kind(), ErrorKind::not_found);
}

TEST(TreeHash, Errors) {
  TempDir t;
  auto missing = hash_tree_entries(t.path(), {"nope"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind(), ErrorKind::not_found);
  auto dotdot = hash_tree_entries(t.path(), {"../etc/passwd"});
  ASSERT_FALSE(dotdot.has_value());
  EXPECT_EQ(dotdot.error().kind(), ErrorKind::invalid_argument);
}

}  // namespace
}  // namespace strata::fs
