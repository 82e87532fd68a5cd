// Write a tree → layer → extract elsewhere → compare, for each compression and both path
// resolvers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "archive/extractor.hpp"
#include "archive/layer_writer.hpp"
#include "archive_test_util.hpp"
#include "util/fd.hpp"

namespace strata::archive {
namespace {

using test::lstat_of;
using test::read_file;
using test::TempDir;
using test::write_file;

std::vector<std::string> sorted_tree(const std::string& root) {
  std::vector<std::string> rels;
  for (auto& e : std::filesystem::recursive_directory_iterator(root))
    rels.push_back(e.path().lexically_relative(root).string());
  std::sort(rels.begin(), rels.end());
  return rels;
}

Result<std::pair<std::string, LayerDigests>> layer_of(const std::string& root, LayerOptions options = {}) {
  StringSink sink;
  auto writer = TRY(LayerWriter::open(sink, options));
  for (const auto& rel : sorted_tree(root)) TRY(writer->tar().add_path(root + "/" + rel, rel));
  auto digests = TRY(writer->finish());
  return std::pair{sink.take(), digests};
}

std::string xattr_of(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<std::size_t>(n));
}

void build_sample_tree(const std::string& src) {
  write_file(src + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  write_file(src + "/usr/bin/tool", std::string(300000, 'x') + "tail", 0755);
  write_file(src + "/usr/bin/su", "setuid binary", 0755);
  ASSERT_EQ(::chown((src + "/usr/bin/su").c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod((src + "/usr/bin/su").c_str(), 04755), 0);
  write_file(src + "/home/user/notes", "mine", 0600);
  ASSERT_EQ(::chown((src + "/home/user/notes").c_str(), 1000, 1001), 0);
  ASSERT_EQ(::chown((src + "/home/user").c_str(), 1000, 1001), 0);
  ASSERT_EQ(::chmod((src + "/home/user").c_str(), 02750), 0);
  std::filesystem::create_directories(src + "/tmp");
  ASSERT_EQ(::chmod((src + "/tmp").c_str(), 01777), 0);
  ASSERT_EQ(::symlink("../etc/passwd", (src + "/usr/passwd-link").c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent/abs", (src + "/usr/dangling").c_str()), 0);
  ASSERT_EQ(::lsetxattr((src + "/usr/dangling").c_str(), "trusted.note", "on-a-link", 9, 0), 0);
  ASSERT_EQ(::link((src + "/usr/bin/tool").c_str(), (src + "/usr/bin/tool-hard").c_str()), 0);
  ASSERT_EQ(::mkfifo((src + "/usr/fifo").c_str(), 0640), 0);
  ASSERT_EQ(::lsetxattr((src + "/usr/fifo").c_str(), "trusted.note", "on-a-fifo", 9, 0), 0);
  std::filesystem::create_directories(src + "/dev");
  ASSERT_EQ(::mknod((src + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::mknod((src + "/dev/loop9").c_str(), S_IFBLK | 0660, makedev(7, 9)), 0);
  write_file(src + "/usr/bin/ping", "cap binary", 0755);
  // security.capability v2: cap_net_raw (bit 13) permitted + effective.
  const unsigned char cap[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  ASSERT_EQ(::setxattr((src + "/usr/bin/ping").c_str(), "security.capability", cap, sizeof cap, 0), 0);
  ASSERT_EQ(::setxattr((src + "/etc/passwd").c_str(), "user.origin", "test", 4, 0), 0);
  ASSERT_EQ(::setxattr((src + "/usr").c_str(), "trusted.note", "dir-xattr", 9, 0), 0);
  write_file(src + "/utf8/caf\xc3\xa9 \xe2\x98\x83.txt", "unicode name");
  std::string long_dir = src + "/" + std::string(120, 'd') + "/" + std::string(150, 'e');
  write_file(long_dir + "/" + std::string(200, 'f'), "long path");
  // Directory and file times last: creating children above would change them.
  for (const auto& rel : sorted_tree(src)) {
    timespec ts[2] = {{1600000000 + static_cast<long>(rel.size()), 0}, {1600000000 + static_cast<long>(rel.size()), 0}};
    ::utimensat(AT_FDCWD, (src + "/" + rel).c_str(), ts, AT_SYMLINK_NOFOLLOW);
  }
}

void expect_same_tree(const std::string& a, const std::string& b) {
  auto ra = sorted_tree(a), rb = sorted_tree(b);
  ASSERT_EQ(ra, rb);
  for (const auto& rel : ra) {
    SCOPED_TRACE(rel);
    struct stat sa = lstat_of(a + "/" + rel), sb = lstat_of(b + "/" + rel);
    EXPECT_EQ(sa.st_mode, sb.st_mode);
    EXPECT_EQ(sa.st_uid, sb.st_uid);
    EXPECT_EQ(sa.st_gid, sb.st_gid);
    EXPECT_EQ(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
    EXPECT_EQ(sa.st_nlink, sb.st_nlink);
    if (S_ISREG(sa.st_mode)) {
      EXPECT_TRUE(read_file(a + "/" + rel) == read_file(b + "/" + rel));
    }
    if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) {
      EXPECT_EQ(sa.st_rdev, sb.st_rdev);
    }
    if (S_ISLNK(sa.st_mode)) {
      EXPECT_EQ(std::filesystem::read_symlink(a + "/" + rel), std::filesystem::read_symlink(b + "/" + rel));
    }
    for (const char* x : {"security.capability", "user.origin", "trusted.note"})
      EXPECT_EQ(xattr_of(a + "/" + rel, x), xattr_of(b + "/" + rel, x)) << x;
  }
}

class RoundTrip : public ::testing::TestWithParam<std::tuple<Compression, ResolveMode>> {};

TEST_P(RoundTrip, TreeSurvivesLayerWriteAndExtract) {
  auto [compression, mode] = GetParam();
  TempDir src, dst;
  build_sample_tree(src.path());
  LayerOptions options;
  options.compression = compression;
  auto layer = layer_of(src.path(), options);
  ASSERT_TRUE(layer) << layer.error().message();
  MemorySource blob(layer->first);
  ExtractOptions extract;
  extract.resolve = mode;
  auto stats = apply_layer(blob, dst.path(), extract);
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(stats->compression, compression);
  EXPECT_EQ(stats->diff_id, layer->second.diff_id);
  EXPECT_EQ(stats->digest, layer->second.digest);
  EXPECT_EQ(stats->compressed_size, layer->first.size());
  EXPECT_EQ(stats->uncompressed_size, layer->second.uncompressed_size);
  expect_same_tree(src.path(), dst.path());
  EXPECT_EQ(lstat_of(dst / "usr/bin/su").st_mode & 07777, 04755u);
  EXPECT_EQ(lstat_of(dst / "usr/bin/tool").st_ino, lstat_of(dst / "usr/bin/tool-hard").st_ino);
}

INSTANTIATE_TEST_SUITE_P(All, RoundTrip,
                         ::testing::Combine(::testing::Values(Compression::none, Compression::gzip, Compression::zstd),
                                            ::testing::Values(ResolveMode::openat2, ResolveMode::manual)));

TEST(RoundTrip, SetuidSurvivesChownToOtherOwner) {
  TempDir src, dst;
  write_file(src / "bin/sudo", "x", 0755);
  ASSERT_EQ(::chown((src / "bin/sudo").c_str(), 1234, 5678), 0);
  ASSERT_EQ(::chmod((src / "bin/sudo").c_str(), 06755), 0);
  auto layer = layer_of(src.path());
  ASSERT_TRUE(layer);
  MemorySource blob(layer->first);
  ASSERT_TRUE(apply_layer(blob, dst.path()));
  struct stat st = lstat_of(dst / "bin/sudo");
  EXPECT_EQ(st.st_mode & 07777, 06755u);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
}

TEST(RoundTrip, ReproducibleLayersDoNotDependOnMtimes) {
  TempDir a, b;
  for (const auto* d : {&a, &b}) {
    write_file(*d / "app/main.py", "print(1)\n");
    write_file(*d / "app/data.bin", std::string(100000, 'z'));
  }
  timespec ts[2] = {{12345, 0}, {12345, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (b / "app/main.py").c_str(), ts, 0), 0);
  LayerOptions options;
  options.tar.mtime_policy = MtimePolicy::set;
  options.tar.epoch = 0;
  auto la = layer_of(a.path(), options), lb = layer_of(b.path(), options);
  ASSERT_TRUE(la && lb);
  EXPECT_EQ(la->second.digest, lb->second.digest);
  EXPECT_EQ(la->second.diff_id, lb->second.diff_id);
  options.tar.mtime_policy = MtimePolicy::preserve;
  auto pa = layer_of(a.path(), options), pb = layer_of(b.path(), options);
  EXPECT_NE(pa->second.diff_id, pb->second.diff_id);
}

}  // namespace
}  // namespace strata::archive

namespace strata::archive {
namespace {

long max_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// A 1 GiB file through LayerWriter (gzip) to disk and back through apply_layer: peak memory must
// not follow the layer size. Opt-in (STRATA_BENCH=1): it writes 2 GiB to disk.
TEST(LayerBench, LargeLayerStreamsInBoundedMemory) {
  if (!std::getenv("STRATA_BENCH")) GTEST_SKIP() << "set STRATA_BENCH=1 to run";
  TempDir src, out, dst;
  {
    util::Fd big(::open((src / "big").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    std::string block(1 << 20, '\0');
    for (int i = 0; i < 1024; ++i) {
      for (std::size_t j = 0; j < block.size(); j += 4096) block[j] = static_cast<char>(i + j);
      ASSERT_EQ(::write(big.get(), block.data(), block.size()), static_cast<ssize_t>(block.size()));
    }
  }
  long before = max_rss_kib();
  auto start = std::chrono::steady_clock::now();
  util::Fd blob(::open((out / "layer.gz").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  FdSink sink(blob.get(), "layer.gz");
  auto writer = LayerWriter::open(sink, LayerOptions{Compression::gzip, 6, {}});
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->tar().add_path(src / "big", "big"));
  auto digests = (*writer)->finish();
  ASSERT_TRUE(digests);
  double write_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(::lseek(blob.get(), 0, SEEK_SET), 0);
  FdSource source(blob.get(), "layer.gz");
  start = std::chrono::steady_clock::now();
  auto stats = apply_layer(source, dst.path());
  ASSERT_TRUE(stats) << stats.error().message();
  double read_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(stats->diff_id, digests->diff_id);
  long growth_mib = (max_rss_kib() - before) / 1024;
  std::printf("[bench] 1 GiB layer: write+gzip %.2f s, extract %.2f s, blob %.1f MB, peak RSS growth %ld MiB\n",
              write_secs, read_secs, static_cast<double>(digests->size) / 1e6, growth_mib);
  EXPECT_LT(growth_mib, 64);
}

}  // namespace
}  // namespace strata::archive
