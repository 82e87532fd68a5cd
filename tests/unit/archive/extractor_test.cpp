// Layer application semantics (whiteouts, replacement, earlier-layer hardlinks) and hostile input.
#include "archive/extractor.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "archive/layer_writer.hpp"
#include "archive_test_util.hpp"

namespace strata::archive {
namespace {

using test::dir_is_empty;
using test::exists;
using test::lstat_of;
using test::pax_record;
using test::read_file;
using test::tar_end;
using test::tar_record;
using test::TempDir;
using test::write_file;

Result<ExtractStats> apply_bytes(const std::string& bytes, const std::string& root, ExtractOptions options = {}) {
  MemorySource in(bytes);
  return apply_layer(in, root, options);
}

// Lower layer: what the tests stack on top of.
void make_lower(const std::string& root) {
  write_file(root + "/etc/passwd", "lower passwd");
  write_file(root + "/etc/hosts", "lower hosts");
  write_file(root + "/opt/app/old.txt", "old");
  write_file(root + "/opt/app/sub/deep.txt", "deep");
  write_file(root + "/var/lib/keep", "keep");
  write_file(root + "/data/file-to-dir", "i am a file");
  write_file(root + "/data/dir-to-file/child", "child");
}

class Extract : public ::testing::TestWithParam<ResolveMode> {
 protected:
  ExtractOptions options() const {
    ExtractOptions o;
    o.resolve = GetParam();
    return o;
  }
};

TEST_P(Extract, WhiteoutsAndOpaqueDirectories) {
  TempDir root;
  make_lower(root.path());
  std::string layer = tar_record("etc/.wh.passwd", '0', "", "", 0) +
                      tar_record("opt/app/", '5', "", "", 0755) +
                      tar_record("opt/app/.wh..wh..opq", '0', "", "", 0) +
                      tar_record("opt/app/new.txt", '0', "new") +
                      tar_record("var/.wh.lib", '0') +
                      tar_record("nothing/.wh.there", '0') + tar_end();
  auto stats = apply_bytes(layer, root.path(), options());
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(stats->whiteouts, 4u);
  EXPECT_FALSE(exists(root / "etc/passwd"));
  EXPECT_EQ(read_file(root / "etc/hosts"), "lower hosts");
  EXPECT_FALSE(exists(root / "etc/.wh.passwd"));
  EXPECT_FALSE(exists(root / "opt/app/old.txt"));
  EXPECT_FALSE(exists(root / "opt/app/sub"));
  EXPECT_EQ(read_file(root / "opt/app/new.txt"), "new");
  EXPECT_FALSE(exists(root / "opt/app/.wh..wh..opq"));
  EXPECT_FALSE(exists(root / "var/lib"));
  EXPECT_TRUE(exists(root / "var"));
  EXPECT_FALSE(exists(root / "nothing"));
}

TEST_P(Extract, OpaqueMarkerAfterSameLayerEntriesKeepsThem) {
  TempDir root;
  make_lower(root.path());
  std::string layer = tar_record("opt/app/", '5', "", "", 0755) + tar_record("opt/app/sub/", '5', "", "", 0755) +
                      tar_record("opt/app/sub/mine.txt", '0', "mine") + tar_record("opt/app/.wh..wh..opq", '0') +
                      tar_end();
  auto stats = apply_bytes(layer, root.path(), options());
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(read_file(root / "opt/app/sub/mine.txt"), "mine");
  EXPECT_FALSE(exists(root / "opt/app/sub/deep.txt"));  // lower child of a merged directory
  EXPECT_FALSE(exists(root / "opt/app/old.txt"));
}

TEST_P(Extract, FileReplacesDirectoryAndBack) {
  TempDir root;
  make_lower(root.path());
  std::string layer = tar_record("data/file-to-dir/", '5', "", "", 0700) +
                      tar_record("data/file-to-dir/inside", '0', "now a dir") +
                      tar_record("data/dir-to-file", '0', "now a file") +
                      tar_record("etc/", '5', "", "", 0711) + tar_end();
  auto stats = apply_bytes(layer, root.path(), options());
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_TRUE(S_ISDIR(lstat_of(root / "data/file-to-dir").st_mode));
  EXPECT_EQ(read_file(root / "data/file-to-dir/inside"), "now a dir");
  EXPECT_EQ(read_file(root / "data/dir-to-file"), "now a file");
  // A directory over a directory merges and takes the new mode.
  EXPECT_EQ(read_file(root / "etc/hosts"), "lower hosts");
  EXPECT_EQ(lstat_of(root / "etc").st_mode & 07777, 0711u);
}

TEST_P(Extract, HardlinkToEarlierLayerFile) {
  TempDir root;
  make_lower(root.path());
  std::string layer = tar_record("bin/", '5', "", "", 0755) + tar_record("bin/keep-link", '1', "", "var/lib/keep") +
                      tar_end();
  auto stats = apply_bytes(layer, root.path(), options());
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(lstat_of(root / "bin/keep-link").st_ino, lstat_of(root / "var/lib/keep").st_ino);
  EXPECT_EQ(read_file(root / "bin/keep-link"), "keep");
}

TEST_P(Extract, DirectoryMtimesSurviveTheirChildren) {
  TempDir root;
  std::string layer = tar_record("a/", '5', "", "", 0755, 1111111111) + tar_record("a/b/", '5', "", "", 0755, 1222222222) +
                      tar_record("a/b/c", '0', "c") + tar_record("a/d", '0', "d") + tar_end();
  auto stats = apply_bytes(layer, root.path(), options());
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(lstat_of(root / "a").st_mtim.tv_sec, 1111111111);
  EXPECT_EQ(lstat_of(root / "a/b").st_mtim.tv_sec, 1222222222);
}

TEST_P(Extract, IgnoredPathsAreNotTouched) {
  TempDir root;
  make_lower(root.path());
  write_file(root / "proc/self", "host");
  ExtractOptions o = options();
  o.ignore_paths = {"/proc", "/opt/app/"};
  std::string layer = tar_record("proc/self", '0', "from layer") + tar_record("opt/app/.wh.old.txt", '0') +
                      tar_record(".wh.proc", '0') + tar_record("opt/other", '0', "ok") + tar_end();
  auto stats = apply_bytes(layer, root.path(), o);
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(read_file(root / "proc/self"), "host");
  EXPECT_EQ(read_file(root / "opt/app/old.txt"), "old");
  EXPECT_EQ(read_file(root / "opt/other"), "ok");
  EXPECT_EQ(stats->skipped, 2u);  // proc/self and opt/app/.wh.old.txt; .wh.proc counts as a whiteout
}

TEST_P(Extract, OwnershipCanBeLeftToTheExtractingUser) {
  TempDir root;
  ExtractOptions o = options();
  o.ownership = Ownership::ignore;
  std::string layer = tar_record("f", '0', "x", "", 04755) + tar_end();
  layer.replace(108, 7, "0001750");  // uid 1000 in the ustar header; fix the checksum below
  std::memset(layer.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(layer[i]);
  std::snprintf(layer.data() + 148, 8, "%06o", sum);
  auto stats = apply_bytes(layer, root.path(), o);
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(lstat_of(root / "f").st_uid, ::geteuid());
  EXPECT_EQ(lstat_of(root / "f").st_mode & 07777, 04755u);
  auto preserved = apply_bytes(layer, root.path(), options());
  ASSERT_TRUE(preserved) << preserved.error().message();
  EXPECT_EQ(lstat_of(root / "f").st_uid, 1000u);
}

// Every escape attempt: nothing may appear outside the root.
class Escape : public ::testing::TestWithParam<ResolveMode> {
 protected:
  void SetUp() override {
    m_outside = m_base / "outside";
    m_root = m_base / "root";
    std::filesystem::create_directories(m_outside);
    std::filesystem::create_directories(m_root);
    write_file(m_base / "secret", "host secret");
  }
  Result<ExtractStats> apply(const std::string& layer) {
    ExtractOptions o;
    o.resolve = GetParam();
    return apply_bytes(layer + tar_end(), m_root, o);
  }
  void expect_contained() {
    EXPECT_TRUE(dir_is_empty(m_outside)) << "something was written outside the root";
    EXPECT_EQ(read_file(m_base / "secret"), "host secret");
    EXPECT_EQ(lstat_of(m_base / "secret").st_nlink, 1u);
    std::vector<std::string> top;
    for (auto& e : std::filesystem::directory_iterator(m_base.path())) top.push_back(e.path().filename().string());
    std::sort(top.begin(), top.end());
    EXPECT_EQ(top, (std::vector<std::string>{"outside", "root", "secret"}));
  }
  TempDir m_base;
  std::string m_outside, m_root;
};

TEST_P(Escape, DotDotPathsAreCorrupt) {
  for (const char* name : {"../x", "a/../../x", "./../outside/x", "a/b/../../../outside/x"}) {
    auto r = apply(tar_record(name, '0', "evil"));
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
    EXPECT_NE(r.error().message().find(name), std::string::npos) << r.error().message();
  }
  expect_contained();
}

TEST_P(Escape, AbsolutePathsAreStrippedIntoTheRoot) {
  auto r = apply(tar_record(m_outside + "/abs", '0', "contained") + tar_record("/etc/conf", '0', "c"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(read_file(m_root + m_outside + "/abs"), "contained");
  EXPECT_EQ(read_file(m_root + "/etc/conf"), "c");
  expect_contained();
}

TEST_P(Escape, WritesThroughSymlinksStayInside) {
  const std::vector<std::string> layers = {
      tar_record("evil", '2', "", m_outside) + tar_record("evil/file", '0', "evil"),
      tar_record("rel", '2', "", "../../../../../../outside") + tar_record("rel/file", '0', "evil"),
      tar_record("chain1", '2', "", "chain2") + tar_record("chain2", '2', "", "chain3/../..") +
          tar_record("chain3", '2', "", "/..") + tar_record("chain1/outside/file", '0', "evil"),
      tar_record("dir/", '5') + tar_record("dir/up", '2', "", "../../../outside/") +
          tar_record("dir/up/file", '0', "evil"),
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& layer : layers) {
      auto r = apply(layer);
      if (pass == 1) {
        // With the link targets present inside the root, the writes land inside it.
        EXPECT_TRUE(r) << r.error().message();
      }
      expect_contained();
    }
    std::filesystem::create_directories(m_root + m_outside);
    std::filesystem::create_directories(m_root + "/outside");
  }
  EXPECT_EQ(read_file(m_root + m_outside + "/file"), "evil");
  EXPECT_EQ(read_file(m_root + "/outside/file"), "evil");
}

TEST_P(Escape, SymlinkSwappedUnderADirectoryBetweenEntries) {
  // The swapped-in link dangles inside the root (as in a chroot): the write fails, nothing leaks.
  auto r = apply(tar_record("d/", '5', "", "", 0755) + tar_record("d/first", '0', "1") +
                 tar_record("d", '2', "", m_outside) + tar_record("d/second", '0', "2"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("d/second"), std::string::npos) << r.error().message();
  expect_contained();
  // Once the target exists inside the root, the write lands there.
  std::filesystem::create_directories(m_root + m_outside);
  r = apply(tar_record("d/", '5', "", "", 0755) + tar_record("d/first", '0', "1") +
            tar_record("d", '2', "", m_outside) + tar_record("d/second", '0', "2") +
            tar_record("e", '2', "", "..") + tar_record("e/third", '0', "3"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(read_file(m_root + m_outside + "/second"), "2");
  EXPECT_EQ(read_file(m_root + "/third"), "3");
  expect_contained();
}

TEST_P(Escape, HardlinksOutsideAreRefused) {
  for (std::string target : {std::string("../secret"), std::string("../../etc/passwd"), std::string("a/../../secret")}) {
    auto r = apply(tar_record("link", '1', "", target));
    ASSERT_FALSE(r) << target;
    EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
  }
  // Through a symlink to the host path of the secret: resolved inside the root, where it is absent.
  auto r = apply(tar_record("up", '2', "", m_base.path()) + tar_record("link", '1', "", "up/secret"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
  auto abs = apply(tar_record("link2", '1', "", m_base / "secret"));
  ASSERT_FALSE(abs);
  expect_contained();
}

TEST_P(Escape, WhiteoutsCannotDeleteOutside) {
  write_file(m_outside + "/victim", "v");
  auto r = apply(tar_record("up", '2', "", m_outside) + tar_record("up/.wh.victim", '0') +
                 tar_record("../outside/.wh.victim", '0'));
  ASSERT_FALSE(r);
  EXPECT_EQ(read_file(m_outside + "/victim"), "v");
  std::filesystem::remove(m_outside + "/victim");
  expect_contained();
}

INSTANTIATE_TEST_SUITE_P(Both, Extract, ::testing::Values(ResolveMode::openat2, ResolveMode::manual));
INSTANTIATE_TEST_SUITE_P(Both, Escape, ::testing::Values(ResolveMode::openat2, ResolveMode::manual));

TEST(ExtractLimits, HugePaxHeaderIsCorrupt) {
  TempDir root;
  std::string pax = pax_record("SCHILY.xattr.user.big", std::string(2 << 20, 'x'));
  std::string layer = tar_record("PaxHeaders/big", 'x', pax) + tar_record("big", '0', "x") + tar_end();
  auto r = apply_bytes(layer, root.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
}

TEST(ExtractLimits, OversizedMetadataWithinLibarchiveLimitIsCorrupt) {
  TempDir root;
  std::string pax = pax_record("SCHILY.xattr.user.a", std::string(600 << 10, 'x'));
  std::string layer = tar_record("PaxHeaders/a", 'x', pax) + tar_record("a", '0', "x") + tar_end();
  ExtractOptions o;
  o.limits.max_header_bytes = 512 << 10;
  auto r = apply_bytes(layer, root.path(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
  EXPECT_NE(r.error().message().find("\"a\""), std::string::npos) << r.error().message();
}

TEST(ExtractLimits, EntryCountAndPathLength) {
  TempDir root;
  std::string layer;
  for (int i = 0; i < 5; ++i) layer += tar_record("f" + std::to_string(i), '0', "x");
  layer += tar_end();
  ExtractOptions o;
  o.limits.max_entries = 3;
  auto r = apply_bytes(layer, root.path(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
  ExtractOptions p;
  p.limits.max_path_bytes = 50;
  std::string long_name = pax_record("path", std::string(60, 'n'));
  r = apply_bytes(tar_record("PaxHeaders/n", 'x', long_name) + tar_record("n", '0', "x") + tar_end(), root.path(), p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
}

TEST(ExtractLimits, GarbageAndTruncatedArchivesAreCorrupt) {
  TempDir root;
  std::string layer = tar_record("a", '0', std::string(5000, 'a')) + tar_end();
  auto r = apply_bytes(layer.substr(0, 2048), root.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
  r = apply_bytes(std::string(1024, 'g'), root.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
}

TEST(ExtractLimits, RatioBombLayerIsCorrupt) {
  TempDir src, root;
  write_file(src / "zeros", std::string(30 << 20, '\0'));
  StringSink sink;
  auto writer = LayerWriter::open(sink, LayerOptions{Compression::zstd, 19, {}});
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->tar().add_path(src / "zeros", "zeros"));
  ASSERT_TRUE((*writer)->finish());
  ExtractOptions o;
  o.decompress.max_ratio = 200;
  o.decompress.ratio_floor_bytes = 1 << 20;
  MemorySource in(sink.data());
  auto r = apply_layer(in, root.path(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
}

}  // namespace
}  // namespace strata::archive
