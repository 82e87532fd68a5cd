// The layer writer's output as other tools see it: GNU gzip/zstd/sha256sum/tar.
#include "archive/layer_writer.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/un.h>

#include <filesystem>

#include "archive/extractor.hpp"
#include "archive_test_util.hpp"
#include "util/fd.hpp"

namespace strata::archive {
namespace {

using test::read_file;
using test::run;
using test::TempDir;
using test::write_file;

std::string sha256sum(const std::string& command) {
  std::string out = run(command + " | sha256sum");
  return "sha256:" + out.substr(0, 64);
}

Result<LayerDigests> write_sample(const TempDir& src, const std::string& out_path, Compression c) {
  write_file(src / "etc/app.conf", "key=value\n");
  write_file(src / "bin/app", std::string(1 << 20, 'A') + "end", 0755);
  util::Fd fd(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  FdSink sink(fd.get(), out_path);
  auto writer = TRY(LayerWriter::open(sink, LayerOptions{c, 6, {}}));
  auto& tar = writer->tar();
  TRY(tar.add_path(src / "bin", "/bin"));
  TRY(tar.add_path(src / "bin/app", "./bin/app"));
  TRY(tar.add_hardlink("bin/app2", "bin/app", TarEntry{}));
  TRY(tar.add_path(src / "etc", "etc"));
  TRY(tar.add_path(src / "etc/app.conf", "etc/app.conf"));
  TarEntry heredoc;
  heredoc.path = "etc/motd";
  heredoc.mode = 0600;
  heredoc.uid = 33;
  heredoc.gid = 44;
  heredoc.mtime = 1700000000;
  TRY(tar.add_entry(heredoc, "hello from a heredoc\n"));
  TRY(tar.add_whiteout("etc/removed.conf"));
  TRY(tar.add_opaque("var/cache"));
  TRY(tar.add_whiteout("toplevel"));
  return writer->finish();
}

class WriterCli : public ::testing::TestWithParam<Compression> {};

TEST_P(WriterCli, DigestsMatchGnuToolsAndTarListsEntries) {
  Compression c = GetParam();
  TempDir src, out;
  std::string blob = out / "layer";
  auto digests = write_sample(src, blob, c);
  ASSERT_TRUE(digests) << digests.error().message();
  std::string decompress = c == Compression::gzip ? "gzip -dc " : c == Compression::zstd ? "zstd -qdc " : "cat ";
  EXPECT_EQ(digests->digest.str(), sha256sum("cat " + blob));
  EXPECT_EQ(digests->diff_id.str(), sha256sum(decompress + blob));
  EXPECT_EQ(digests->size, std::filesystem::file_size(blob));
  EXPECT_EQ(std::to_string(digests->uncompressed_size) + "\n", run(decompress + blob + " | wc -c"));
  std::string names = run(decompress + blob + " | tar -t");
  EXPECT_EQ(names,
            "bin/\nbin/app\nbin/app2\netc/\netc/app.conf\netc/motd\netc/.wh.removed.conf\n"
            "var/cache/.wh..wh..opq\n.wh.toplevel\n");
  std::string listing = run(decompress + blob + " | tar -tv --numeric-owner");
  EXPECT_NE(listing.find("-rw------- 33/44"), std::string::npos) << listing;
  EXPECT_EQ(run(decompress + blob + " | tar -tv --numeric-owner | grep -c '^---------- 0/0 .* 0 1970-01-01 00:00 .*\\.wh\\.'"),
            "3\n") << listing;
  EXPECT_NE(listing.find("bin/app2 link to bin/app"), std::string::npos) << listing;
  // No user/group names are recorded (tar would print them instead of numbers).
  EXPECT_EQ(run(decompress + blob + " | tar -tv | grep -c root"), "0\n");
  // The end of the archive is the two zero blocks, without libarchive's 10 KiB block padding.
  EXPECT_EQ(digests->uncompressed_size % 512, 0u);
  EXPECT_LT(digests->uncompressed_size, (1u << 20) + 16 * 512 + 1024);
}

INSTANTIATE_TEST_SUITE_P(All, WriterCli, ::testing::Values(Compression::none, Compression::gzip, Compression::zstd));

TEST(Writer, SocketsAreSkippedAndBadPathsRefused) {
  TempDir src;
  std::string sock = src / "sock";
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(s);
  StringSink sink;
  auto tar = TarWriter::open(sink);
  ASSERT_TRUE(tar);
  ASSERT_TRUE((*tar)->add_path(sock, "sock"));
  EXPECT_EQ((*tar)->entries(), 0u);
  TarEntry e;
  e.path = "a/../../b";
  EXPECT_EQ((*tar)->add_entry(e, "x").error().kind(), ErrorKind::invalid_argument);
  e.path = "/";
  EXPECT_EQ((*tar)->add_entry(e, "x").error().kind(), ErrorKind::invalid_argument);
  MemorySource short_content("abc");
  e.path = "f";
  e.size = 10;
  EXPECT_EQ((*tar)->add_entry(e, short_content).error().kind(), ErrorKind::invalid_argument);
}

TEST(Writer, SinkErrorsPropagate) {
  class FailingSink final : public Sink {
   public:
    Result<void> write(const void*, std::size_t) override { return fail(ErrorKind::no_space, "disk full"); }
  } failing;
  TempDir src;
  write_file(src / "big", std::string(4 << 20, 'b'));
  auto writer = LayerWriter::open(failing, LayerOptions{Compression::none, 0, {}});
  ASSERT_TRUE(writer);
  auto r = (*writer)->tar().add_path(src / "big", "big");
  if (r) r = (*writer)->finish().map([](auto&&) {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::no_space) << r.error().message();
}

TEST(Writer, ClampedMtimes) {
  TempDir src;
  write_file(src / "old", "o");
  write_file(src / "new", "n");
  timespec old_ts[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src / "old").c_str(), old_ts, 0), 0);
  StringSink sink;
  WriterOptions options;
  options.mtime_policy = MtimePolicy::clamp;
  options.epoch = 5000;
  auto tar = TarWriter::open(sink, options);
  ASSERT_TRUE(tar);
  ASSERT_TRUE((*tar)->add_path(src / "old", "old"));
  ASSERT_TRUE((*tar)->add_path(src / "new", "new"));
  ASSERT_TRUE((*tar)->finish());
  TempDir dst;
  MemorySource in(sink.data());
  ASSERT_TRUE(apply_layer(in, dst.path()));
  EXPECT_EQ(test::lstat_of(dst / "old").st_mtim.tv_sec, 1000);
  EXPECT_EQ(test::lstat_of(dst / "new").st_mtim.tv_sec, 5000);
}

}  // namespace
}  // namespace strata::archive
