#include "fs/snapshot.hpp"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "fs/walker.hpp"
#include "unit/fs/fs_test_support.hpp"

namespace strata::fs {
namespace {

using testing::find_change;
using testing::lstat_of;
using testing::make_dirs;
using testing::options_for;
using testing::set_mtime;
using testing::summary;
using testing::TempDir;
using testing::write_file;
using Strings = std::vector<std::string>;

// A small image-like tree whose timestamps lie in the past, so that time and redo modes see a
// fresh mtime on anything a test writes (file timestamps tick coarsely; see k_racy_window_ns).
void make_base(const TempDir& t) {
  make_dirs(t / "etc");
  make_dirs(t / "usr/bin");
  make_dirs(t / "var/lib/app");
  write_file(t / "etc/os-release", "ID=test\n");
  write_file(t / "usr/bin/tool", "#!/bin/sh\necho tool\n");
  write_file(t / "var/lib/app/data", "0123456789");
  for (const char* p : {"etc/os-release", "usr/bin/tool", "var/lib/app/data", "etc", "usr/bin", "usr", "var/lib/app",
                        "var/lib", "var"}) {
    set_mtime(t / p, {1600000000, 0});
  }
}

Snapshotter make_snapshotter(const TempDir& t, SnapshotOptions options) {
  auto s = Snapshotter::create(t.path(), std::move(options));
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message());
  return std::move(*s);
}

std::vector<Change> snap(Snapshotter& s) {
  auto r = s.snapshot();
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? *r : std::vector<Change>{};
}

TEST(Snapshot, NothingChangedGivesNothing) {
  TempDir t;
  make_base(t);
  for (SnapshotMode mode : {SnapshotMode::full, SnapshotMode::redo, SnapshotMode::time}) {
    auto s = make_snapshotter(t, options_for(mode));
    EXPECT_TRUE(snap(s).empty()) << to_string(mode);
    EXPECT_TRUE(snap(s).empty()) << to_string(mode);
    EXPECT_EQ(s.last_stats().entries, 9u);
  }
}

TEST(Snapshot, AddedFileBringsItsParents) {
  TempDir t;
  make_base(t);
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  write_file(t / "var/lib/app/new", "x");
  EXPECT_EQ(summary(snap(s)), (Strings{"var:parent", "var/lib:parent", "var/lib/app:parent", "var/lib/app/new:added"}));
  EXPECT_TRUE(snap(s).empty()) << "state must be carried to the next step";
}

TEST(Snapshot, AddedDirectoryListsAllChildrenInOrder) {
  TempDir t;
  make_base(t);
  auto s = make_snapshotter(t, options_for(SnapshotMode::redo));
  make_dirs(t / "opt/app/lib");
  write_file(t / "opt/app/lib/a.so", "a");
  write_file(t / "opt/app/lib-extra", "b");
  write_file(t / "opt/app/README", "c");
  ASSERT_EQ(::symlink("lib/a.so", (t / "opt/app/link").c_str()), 0);
  auto changes = snap(s);
  EXPECT_EQ(summary(changes), (Strings{"opt:added", "opt/app:added", "opt/app/README:added", "opt/app/lib:added",
                                       "opt/app/lib/a.so:added", "opt/app/lib-extra:added", "opt/app/link:added"}));
  EXPECT_EQ(find_change(changes, "opt/app/link")->meta.type(), FileType::symlink);
}

TEST(Snapshot, ContentChangeIsModifiedInEveryMode) {
  for (SnapshotMode mode : {SnapshotMode::full, SnapshotMode::redo, SnapshotMode::time}) {
    TempDir t;
    make_base(t);
    auto s = make_snapshotter(t, options_for(mode));
    write_file(t / "etc/os-release", "ID=other-and-longer\n");
    EXPECT_EQ(summary(snap(s)), (Strings{"etc:parent", "etc/os-release:modified"})) << to_string(mode);
  }
}

TEST(Snapshot, DeletedFileIsOneWhiteout) {
  TempDir t;
  make_base(t);
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  ASSERT_EQ(::unlink((t / "usr/bin/tool").c_str()), 0);
  auto changes = snap(s);
  // usr/bin's ctime moved (an entry went away) but its xattrs did not change: only a parent.
  EXPECT_EQ(summary(changes), (Strings{"usr:parent", "usr/bin:parent", "usr/bin/tool:deleted"}));
  EXPECT_TRUE(find_change(changes, "usr/bin/tool")->meta.is_regular());
}

TEST(Snapshot, DeletedDirectoryIsASingleWhiteout) {
  TempDir t;
  make_base(t);
  write_file(t / "var/lib/app/more", "m");
  make_dirs(t / "var/lib/app/sub/deeper");
  auto s = make_snapshotter(t, options_for(SnapshotMode::time));
  std::filesystem::remove_all(t / "var/lib/app");
  EXPECT_EQ(summary(snap(s)), (Strings{"var:parent", "var/lib:parent", "var/lib/app:deleted"}));
}

TEST(Snapshot, TypeChanges) {
  TempDir t;
  make_base(t);
  make_dirs(t / "d/sub");
  write_file(t / "d/sub/f", "f");
  write_file(t / "f2d", "file");
  write_file(t / "f2l", "file");
  auto s = make_snapshotter(t, options_for(SnapshotMode::time));
  std::filesystem::remove_all(t / "d");
  write_file(t / "d", "now a file");
  std::filesystem::remove(t / "f2d");
  make_dirs(t / "f2d/inside");
  std::filesystem::remove(t / "f2l");
  ASSERT_EQ(::symlink("/etc/os-release", (t / "f2l").c_str()), 0);
  auto changes = snap(s);
  EXPECT_EQ(summary(changes), (Strings{"d:type_changed", "f2d:type_changed", "f2d/inside:added", "f2l:type_changed"}));
  EXPECT_EQ(find_change(changes, "d")->meta.type(), FileType::regular);
  EXPECT_EQ(find_change(changes, "f2d")->meta.type(), FileType::directory);
  EXPECT_EQ(find_change(changes, "f2l")->meta.type(), FileType::symlink);
}

TEST(Snapshot, ChmodAndChownAreMetadataInFullAndRedoButNotInTime) {
  for (SnapshotMode mode : {SnapshotMode::full, SnapshotMode::redo, SnapshotMode::time}) {
    TempDir t;
    make_base(t);
    auto s = make_snapshotter(t, options_for(mode));
    ASSERT_EQ(::chmod((t / "usr/bin/tool").c_str(), 0755), 0);
    if (::geteuid() == 0) {
      ASSERT_EQ(::lchown((t / "etc/os-release").c_str(), 1234, 1234), 0);
    }
    auto changes = snap(s);
    if (mode == SnapshotMode::time) {
      EXPECT_TRUE(changes.empty()) << "kaniko's time mode looks at mtime only";
      continue;
    }
    ASSERT_NE(find_change(changes, "usr/bin/tool"), nullptr) << to_string(mode);
    EXPECT_EQ(find_change(changes, "usr/bin/tool")->kind, ChangeKind::metadata);
    if (::geteuid() == 0) {
      ASSERT_NE(find_change(changes, "etc/os-release"), nullptr) << to_string(mode);
      EXPECT_EQ(find_change(changes, "etc/os-release")->kind, ChangeKind::metadata);
      EXPECT_EQ(find_change(changes, "etc/os-release")->meta.uid, 1234u);
    }
  }
}

TEST(Snapshot, TouchIsAChangeInEveryMode) {
  for (SnapshotMode mode : {SnapshotMode::full, SnapshotMode::redo, SnapshotMode::time}) {
    TempDir t;
    make_base(t);
    auto s = make_snapshotter(t, options_for(mode));
    set_mtime(t / "usr/bin/tool", {1700000000, 5});
    EXPECT_EQ(summary(snap(s)), (Strings{"usr:parent", "usr/bin:parent", "usr/bin/tool:modified"})) << to_string(mode);
  }
}

// Same size, same mtime (restored, as `cp -p`, `tar x` or `touch -r` do), different bytes:
// only full mode can see it, through ctime confirmed by the content hash.
TEST(Snapshot, SameSizeContentChangeWithRestoredMtime) {
  for (SnapshotMode mode : {SnapshotMode::full, SnapshotMode::redo, SnapshotMode::time}) {
    TempDir t;
    make_base(t);
    auto s = make_snapshotter(t, options_for(mode));
    write_file(t / "var/lib/app/data", "9876543210");
    set_mtime(t / "var/lib/app/data", {1600000000, 0});
    auto changes = snap(s);
    if (mode == SnapshotMode::full) {
      EXPECT_EQ(summary(changes), (Strings{"var:parent", "var/lib:parent", "var/lib/app:parent", "var/lib/app/data:modified"}));
    } else {
      EXPECT_TRUE(changes.empty()) << to_string(mode) << ": kaniko documents that " << to_string(mode)
                                   << " mode misses this";
    }
  }
}

// ctime moves on setxattr and on a no-op chmod: the first time is reported (nothing to compare
// with), after that the evidence read then lets full mode tell a real change from a no-op.
TEST(Snapshot, XattrChangesAreConfirmedByEvidence) {
  TempDir t;
  make_base(t);
  const std::string file = t / "usr/bin/tool";
  if (::lsetxattr(file.c_str(), "user.probe", "1", 1, 0) != 0) GTEST_SKIP() << "no user xattrs on " << t.path();
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  ASSERT_EQ(::lsetxattr(file.c_str(), "user.strata", "a", 1, 0), 0);
  auto changes = snap(s);
  ASSERT_NE(find_change(changes, "usr/bin/tool"), nullptr);
  EXPECT_EQ(s.last_stats().confirmations >= 1, true);

  ASSERT_EQ(::lsetxattr(file.c_str(), "user.strata", "b", 1, 0), 0);
  EXPECT_EQ(summary(snap(s)), (Strings{"usr:parent", "usr/bin:parent", "usr/bin/tool:modified"}));

  ASSERT_EQ(::chmod(file.c_str(), lstat_of(file).st_mode & 07777), 0);  // ctime only, nothing real
  EXPECT_TRUE(snap(s).empty());

  ASSERT_EQ(::lremovexattr(file.c_str(), "user.strata"), 0);
  EXPECT_EQ(summary(snap(s)), (Strings{"usr:parent", "usr/bin:parent", "usr/bin/tool:modified"}));
}

// Within one timestamp tick of the walk: stat() cannot show the change; the racy-entry evidence
// read right after the walk does.
TEST(Snapshot, RacyWriteRightAfterTheWalkIsSeenInFullMode) {
  TempDir t;
  make_base(t);
  write_file(t / "etc/fresh", "aaaa");
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  write_file(t / "etc/fresh", "bbbb");
  struct stat st = lstat_of(t / "etc/fresh");
  set_mtime(t / "etc/fresh", st.st_mtim);
  auto changes = snap(s);
  ASSERT_NE(find_change(changes, "etc/fresh"), nullptr) << ::testing::PrintToString(summary(changes));
  EXPECT_EQ(find_change(changes, "etc/fresh")->kind, ChangeKind::modified);
}

TEST(Snapshot, IgnoredAndMaskedPathsAreNeverReported) {
  TempDir t;
  make_base(t);
  make_dirs(t / "var/run");
  make_dirs(t / "workspace/cache");
  make_dirs(t / "proc");
  write_file(t / "etc/resolv.conf", "nameserver 10.0.0.1\n");
  SnapshotOptions o = options_for(SnapshotMode::full);
  o.ignore_paths = {"/workspace/"};
  o.masked_paths = {"/etc/resolv.conf", "/etc/hosts"};
  auto s = make_snapshotter(t, o);
  EXPECT_FALSE(s.state().find("var/run").has_value());
  EXPECT_FALSE(s.state().find("workspace").has_value());
  EXPECT_TRUE(s.state().find("proc").has_value());

  write_file(t / "var/run/pid", "1");
  write_file(t / "workspace/cache/blob", "b");
  write_file(t / "etc/resolv.conf", "nameserver 127.0.0.53\n");
  write_file(t / "etc/hosts", "127.0.0.1 localhost\n");
  write_file(t / "proc/cpuinfo", "cpu");
  std::filesystem::remove_all(t / "workspace");
  auto changes = snap(s);
  // etc's ctime moved (entries were added to it) but its xattrs are the same: nothing to report.
  EXPECT_EQ(summary(changes), Strings{});
}

TEST(Snapshot, IgnoreVarRunCanBeTurnedOff) {
  TempDir t;
  make_base(t);
  SnapshotOptions o = options_for(SnapshotMode::redo);
  o.ignore_var_run = false;
  auto s = make_snapshotter(t, o);
  make_dirs(t / "var/run");
  EXPECT_EQ(summary(snap(s)), (Strings{"var:parent", "var/run:added"}));
}

TEST(Snapshot, BadIgnorePathIsRejected) {
  TempDir t;
  SnapshotOptions o;
  o.ignore_paths = {"/a/../../etc"};
  auto s = Snapshotter::create(t.path(), o);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind(), ErrorKind::invalid_argument);
  o.ignore_paths = {"/"};
  EXPECT_FALSE(Snapshotter::create(t.path(), o).has_value());
}

TEST(Snapshot, NewHardlinkReportsBothPaths) {
  for (SnapshotMode mode : {SnapshotMode::full, SnapshotMode::time}) {
    TempDir t;
    make_base(t);
    auto s = make_snapshotter(t, options_for(mode));
    ASSERT_EQ(::link((t / "usr/bin/tool").c_str(), (t / "etc/tool-link").c_str()), 0);
    auto changes = snap(s);
    const Change* original = find_change(changes, "usr/bin/tool");
    const Change* link = find_change(changes, "etc/tool-link");
    ASSERT_NE(original, nullptr) << to_string(mode);
    ASSERT_NE(link, nullptr) << to_string(mode);
    EXPECT_EQ(link->kind, ChangeKind::added);
    // "etc/tool-link" sorts first, so it carries the content and the original links to it.
    EXPECT_EQ(link->hardlink_to, "");
    EXPECT_EQ(original->hardlink_to, "etc/tool-link");
    EXPECT_EQ(original->meta.nlink, 2u);
    EXPECT_LT(link - changes.data(), original - changes.data());
  }
}

TEST(Snapshot, ManyStepsCarryState) {
  TempDir t;
  make_base(t);
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  write_file(t / "etc/a", "1");
  EXPECT_NE(find_change(snap(s), "etc/a"), nullptr);
  write_file(t / "etc/b", "2");
  auto step2 = snap(s);
  EXPECT_EQ(find_change(step2, "etc/a"), nullptr);
  EXPECT_NE(find_change(step2, "etc/b"), nullptr);
  ASSERT_EQ(::unlink((t / "etc/a").c_str()), 0);
  auto step3 = snap(s);
  ASSERT_NE(find_change(step3, "etc/a"), nullptr);
  EXPECT_EQ(find_change(step3, "etc/a")->kind, ChangeKind::deleted);
  EXPECT_EQ(find_change(step3, "etc/b"), nullptr);
  EXPECT_TRUE(snap(s).empty());
}

// --single-snapshot: many steps, one diff against the base at the end, net effect only.
TEST(Snapshot, SingleSnapshotSpansManySteps) {
  TempDir t;
  make_base(t);
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  write_file(t / "etc/tmp", "scratch");          // step 1
  make_dirs(t / "opt/x");                        // step 2
  write_file(t / "opt/x/y", "y");
  ASSERT_EQ(::unlink((t / "etc/tmp").c_str()), 0);  // step 3
  std::filesystem::remove_all(t / "var/lib/app");   // step 4
  auto changes = snap(s);
  EXPECT_EQ(find_change(changes, "etc/tmp"), nullptr);
  EXPECT_EQ(summary(changes), (Strings{"opt:added", "opt/x:added", "opt/x/y:added", "var:parent", "var/lib:parent",
                                       "var/lib/app:deleted"}));
}

TEST(Snapshot, ChangesAreSortedParentsFirst) {
  TempDir t;
  make_base(t);
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  make_dirs(t / "a-b");
  make_dirs(t / "a/b");
  write_file(t / "a/b/c", "c");
  write_file(t / "a.txt", "t");
  write_file(t / "usr/bin/z", "z");
  auto changes = snap(s);
  for (std::size_t i = 1; i < changes.size(); ++i) {
    EXPECT_TRUE(path_less(changes[i - 1].path, changes[i].path)) << changes[i - 1].path << " vs " << changes[i].path;
  }
  EXPECT_EQ(summary(changes), (Strings{"a:added", "a/b:added", "a/b/c:added", "a-b:added", "a.txt:added", "usr:parent",
                                       "usr/bin:parent", "usr/bin/z:added"}));
}

TEST(Snapshot, DirectoryXattrChangeIsMetadataInFullMode) {
  TempDir t;
  make_base(t);
  const std::string dir = t / "etc";
  if (::lsetxattr(dir.c_str(), "user.probe", "1", 1, 0) != 0) GTEST_SKIP() << "no user xattrs on " << t.path();
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  ASSERT_EQ(::lremovexattr(dir.c_str(), "user.probe"), 0);
  EXPECT_EQ(summary(snap(s)), (Strings{"etc:metadata"}));
  EXPECT_TRUE(snap(s).empty());
}

// A RUN step that mounts something: what the mount hides is carried over, not deleted.
TEST(Snapshot, MountPointsAreNotCrossed) {
  TempDir t;
  make_base(t);
  make_dirs(t / "mnt/data");
  write_file(t / "mnt/data/keep", "k");
  auto s = make_snapshotter(t, options_for(SnapshotMode::full));
  if (std::system(("mount -t tmpfs none " + (t / "mnt/data") + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "cannot mount tmpfs here";
  }
  write_file(t / "mnt/data/inside-the-mount", "x");
  auto changes = snap(s);
  EXPECT_EQ(std::system(("umount " + (t / "mnt/data")).c_str()), 0);
  EXPECT_TRUE(changes.empty()) << ::testing::PrintToString(summary(changes));
  EXPECT_TRUE(s.state().find("mnt/data/keep").has_value());
  EXPECT_FALSE(s.state().find("mnt/data/inside-the-mount").has_value());
}

TEST(Snapshot, ParseMode) {
  EXPECT_EQ(*parse_snapshot_mode("full"), SnapshotMode::full);
  EXPECT_EQ(*parse_snapshot_mode("redo"), SnapshotMode::redo);
  EXPECT_EQ(*parse_snapshot_mode("time"), SnapshotMode::time);
  EXPECT_FALSE(parse_snapshot_mode("fast").has_value());
}

}  // namespace
}  // namespace strata::fs
