#include "archive/root_dir.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>

#include "archive_test_util.hpp"

namespace strata::archive {
namespace {

using test::TempDir;
using test::write_file;

TEST(CleanEntryPath, StripsAndResolves) {
  EXPECT_EQ(*clean_entry_path("./etc/passwd"), "etc/passwd");
  EXPECT_EQ(*clean_entry_path("/etc//passwd/"), "etc/passwd");
  EXPECT_EQ(*clean_entry_path("a/./b/../c"), "a/c");
  EXPECT_EQ(*clean_entry_path("./"), "");
  EXPECT_EQ(*clean_entry_path("/"), "");
  EXPECT_EQ(*clean_entry_path("a/.."), "");
  for (const char* bad : {"..", "../x", "a/../../x", "/../x", "./a/b/../../../c"}) {
    auto r = clean_entry_path(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
  }
}

TEST(SplitParent, Cases) {
  EXPECT_EQ(split_parent("a"), (std::pair<std::string_view, std::string_view>{"", "a"}));
  EXPECT_EQ(split_parent("a/b/c"), (std::pair<std::string_view, std::string_view>{"a/b", "c"}));
}

class Resolver : public ::testing::TestWithParam<ResolveMode> {};

// Identifies a directory by inode, to compare where a resolution ended.
ino_t inode_of_fd(int fd) {
  struct stat st;
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}
ino_t inode_of(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST_P(Resolver, SymlinksResolveAsIfChrooted) {
  TempDir base;
  std::string root = base / "root";
  std::filesystem::create_directories(root + "/etc/sub");
  std::filesystem::create_directories(base / "outside");
  ASSERT_EQ(::symlink("/", (root + "/to-root").c_str()), 0);
  ASSERT_EQ(::symlink("../../../..", (root + "/etc/up").c_str()), 0);
  ASSERT_EQ(::symlink((base / "outside").c_str(), (root + "/abs").c_str()), 0);
  ASSERT_EQ(::symlink("up/etc/sub", (root + "/etc/loop-back").c_str()), 0);
  ASSERT_EQ(::symlink("self", (root + "/self").c_str()), 0);
  auto dir = RootDir::open(root, GetParam());
  ASSERT_TRUE(dir) << dir.error().message();
  EXPECT_EQ(dir->mode(), GetParam());
  ino_t root_ino = inode_of(root);
  for (const char* rel : {"to-root", "etc/up", "etc/up/..", "to-root/to-root/etc/..", "etc/sub/../../.."}) {
    auto fd = dir->open(rel, O_PATH | O_DIRECTORY);
    ASSERT_TRUE(fd) << rel << ": " << fd.error().message();
    EXPECT_EQ(inode_of_fd(fd->get()), root_ino) << rel;
  }
  auto sub = dir->open("etc/loop-back", O_PATH | O_DIRECTORY);
  ASSERT_TRUE(sub) << sub.error().message();
  EXPECT_EQ(inode_of_fd(sub->get()), inode_of(root + "/etc/sub"));
  // An absolute link to a host directory means that path inside the root: absent here.
  EXPECT_EQ(dir->open_raw("abs", O_PATH | O_DIRECTORY), -ENOENT);
  EXPECT_EQ(dir->open_raw("self", O_PATH), -ELOOP);
  // O_NOFOLLOW opens the link itself.
  auto link = dir->open("to-root", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(link);
  struct stat st;
  ASSERT_EQ(::fstat(link->get(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_P(Resolver, OpenDirCreatesMissingParentsInside) {
  TempDir base;
  std::string root = base / "root";
  std::filesystem::create_directories(root);
  ASSERT_EQ(::symlink("/new", (root + "/link").c_str()), 0);
  auto dir = RootDir::open(root, GetParam());
  ASSERT_TRUE(dir);
  std::filesystem::create_directories(root + "/new");
  auto fd = dir->open_dir("link/a/b", CreateParents::yes);
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_TRUE(std::filesystem::is_directory(root + "/new/a/b"));
  EXPECT_EQ(std::filesystem::status(root + "/new/a").permissions(), std::filesystem::perms(0755));
  EXPECT_FALSE(dir->open_dir("missing/x", CreateParents::no));
}

INSTANTIATE_TEST_SUITE_P(Both, Resolver, ::testing::Values(ResolveMode::openat2, ResolveMode::manual));

TEST(RemoveAll, DoesNotFollowSymlinks) {
  TempDir base;
  write_file(base / "outside/keep", "k");
  write_file(base / "victim/a/b", "b");
  ASSERT_EQ(::symlink((base / "outside").c_str(), (base / "victim/a/link").c_str()), 0);
  util::Fd dir(::open(base.path().c_str(), O_PATH | O_DIRECTORY));
  ASSERT_TRUE(remove_all_at(dir.get(), "victim"));
  EXPECT_FALSE(test::exists(base / "victim"));
  EXPECT_EQ(test::read_file(base / "outside/keep"), "k");
  EXPECT_TRUE(remove_all_at(dir.get(), "never-existed"));
}

}  // namespace
}  // namespace strata::archive
