#include "archive/compression.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "archive/stream.hpp"
#include "archive_test_util.hpp"
#include "digest/digest.hpp"

namespace strata::archive {
namespace {

using test::read_file;
using test::run;
using test::TempDir;
using test::write_file;

// Text-like runs mixed with incompressible noise, like a real rootfs.
std::string mixed_data(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  static const char* words[] = {"lib", "usr", "share", "ELF", "config", "the ", "and ", "\x00\x00\x00\x00", "include", "\n"};
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    if (rng() % 4 == 0) {
      for (int i = 0; i < 512 && out.size() < size; ++i) out += static_cast<char>(rng());
    } else {
      for (int i = 0; i < 256 && out.size() < size; ++i) out += words[rng() % 10];
    }
  }
  out.resize(size);
  return out;
}

std::string compress(Compression c, std::string_view data, int level = 0) {
  StringSink sink;
  auto comp = make_compressor(c, level, sink);
  EXPECT_TRUE(comp) << comp.error().message();
  // Odd-sized writes exercise the codecs' buffering.
  for (std::size_t pos = 0; pos < data.size(); pos += 77777) {
    auto w = (*comp)->write(data.data() + pos, std::min<std::size_t>(77777, data.size() - pos));
    EXPECT_TRUE(w);
  }
  EXPECT_TRUE((*comp)->finish());
  return sink.take();
}

Result<std::string> decompress(std::string_view blob, Compression* detected = nullptr, DecompressOptions options = {}) {
  MemorySource in(blob);
  auto src = TRY(open_decompressed(in, options, detected));
  StringSink out;
  TRY(copy_stream(*src, out));
  return out.take();
}

TEST(Compression, DetectsMagic) {
  EXPECT_EQ(detect_compression(std::string_view("\x1f\x8b\x08\x00", 4)), Compression::gzip);
  EXPECT_EQ(detect_compression(std::string_view("\x28\xb5\x2f\xfd", 4)), Compression::zstd);
  EXPECT_EQ(detect_compression("etc/"), Compression::none);
  EXPECT_EQ(detect_compression(""), Compression::none);
  EXPECT_EQ(*parse_compression("zstd"), Compression::zstd);
  EXPECT_EQ(parse_compression("lz4").error().kind(), ErrorKind::invalid_argument);
}

TEST(Compression, LevelMapping) {
  EXPECT_EQ(isal_level_for(1), 0);
  EXPECT_EQ(isal_level_for(3), 1);
  EXPECT_EQ(isal_level_for(6), 2);
  EXPECT_EQ(isal_level_for(9), 3);
  StringSink sink;
  EXPECT_EQ(make_compressor(Compression::gzip, 10, sink).error().kind(), ErrorKind::invalid_argument);
  EXPECT_EQ(make_compressor(Compression::zstd, 23, sink).error().kind(), ErrorKind::invalid_argument);
}

class CompressionRoundTrip : public ::testing::TestWithParam<std::tuple<Compression, int>> {};

TEST_P(CompressionRoundTrip, DecompressesWhatItCompressed) {
  auto [c, level] = GetParam();
  std::string data = mixed_data(1 << 20, 7);
  std::string blob = compress(c, data, level);
  if (c != Compression::none) {
    EXPECT_LT(blob.size(), data.size());
  }
  Compression detected;
  auto back = decompress(blob, &detected);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(detected, c);
  EXPECT_TRUE(*back == data);
}

INSTANTIATE_TEST_SUITE_P(All, CompressionRoundTrip,
                         ::testing::Values(std::tuple{Compression::none, 0}, std::tuple{Compression::gzip, 1},
                                           std::tuple{Compression::gzip, 2}, std::tuple{Compression::gzip, 6},
                                           std::tuple{Compression::gzip, 9}, std::tuple{Compression::zstd, 1},
                                           std::tuple{Compression::zstd, 3}, std::tuple{Compression::zstd, 9}));

TEST(Compression, EmptyInput) {
  for (auto c : {Compression::gzip, Compression::zstd}) {
    auto back = decompress(compress(c, ""));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_TRUE(back->empty());
  }
}

TEST(Compression, OutputReadableByGnuTools) {
  TempDir dir;
  std::string data = mixed_data(2 << 20, 3);
  write_file(dir / "plain", data);
  write_file(dir / "x.gz", compress(Compression::gzip, data, 6));
  write_file(dir / "x.zst", compress(Compression::zstd, data, 3));
  int status = -1;
  EXPECT_EQ(run("gzip -t " + (dir / "x.gz") + " 2>&1", &status), "");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(run("gzip -dc " + (dir / "x.gz") + " | cmp - " + (dir / "plain") + " && echo same"), "same\n");
  EXPECT_EQ(run("zstd -qdc " + (dir / "x.zst") + " | cmp - " + (dir / "plain") + " && echo same"), "same\n");
}

TEST(Compression, ReadsGnuToolOutputIncludingMultiMember) {
  TempDir dir;
  std::string a = mixed_data(300000, 1), b = mixed_data(200000, 2);
  write_file(dir / "a", a);
  write_file(dir / "b", b);
  run("cd " + dir.path() + " && gzip -6 -c a > a.gz && gzip -1 -c b > b.gz && cat a.gz b.gz > ab.gz"
      " && zstd -q -c a > a.zst && zstd -q -c b > b.zst && cat a.zst b.zst > ab.zst");
  for (const char* name : {"ab.gz", "ab.zst"}) {
    auto back = decompress(read_file(dir / name));
    ASSERT_TRUE(back) << name << ": " << back.error().message();
    EXPECT_TRUE(*back == a + b) << name;
  }
}

TEST(Compression, TruncatedAndDamagedStreamsAreCorrupt) {
  std::string data = mixed_data(1 << 20, 5);
  for (auto c : {Compression::gzip, Compression::zstd}) {
    std::string blob = compress(c, data);
    for (std::size_t cut : {blob.size() - 1, blob.size() - 9, blob.size() / 2, std::size_t{10}}) {
      auto r = decompress(blob.substr(0, cut));
      ASSERT_FALSE(r) << to_string(c) << " cut at " << cut;
      EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
    }
    std::string damaged = blob;
    damaged[damaged.size() / 2] ^= 0x5a;
    damaged[damaged.size() / 2 + 100] ^= 0x33;
    auto r = decompress(damaged);
    ASSERT_FALSE(r) << to_string(c);
    EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
    std::string trailing_garbage = blob + "garbage!";
    r = decompress(trailing_garbage);
    ASSERT_FALSE(r) << to_string(c);
    EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
  }
}

TEST(Compression, RatioBombIsRefused) {
  std::string zeros(40 << 20, '\0');
  DecompressOptions guard;
  guard.max_ratio = 100;
  guard.ratio_floor_bytes = 1 << 20;
  for (auto c : {Compression::gzip, Compression::zstd}) {
    std::string blob = compress(c, zeros, 9);
    ASSERT_LT(blob.size() * 100, zeros.size());
    auto r = decompress(blob, nullptr, guard);
    ASSERT_FALSE(r) << to_string(c);
    EXPECT_EQ(r.error().kind(), ErrorKind::corrupt);
    EXPECT_NE(r.error().message().find("ratio"), std::string::npos) << r.error().message();
    // The default limit (1000:1 past 100 MB) lets an ordinary sparse 40 MB through.
    EXPECT_TRUE(decompress(blob)) << to_string(c);
  }
}

double seconds_of(const std::string& command) {
  auto start = std::chrono::steady_clock::now();
  run(command);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Measures, does not assert: compression throughput on ~200 MB of mixed data, next to the GNU
// tools on the same bytes (the machine is shared: compare ratios, not absolute figures).
// Opt-in (STRATA_BENCH=1) because it takes ~20 s.
TEST(CompressionBench, Throughput) {
  if (!std::getenv("STRATA_BENCH")) GTEST_SKIP() << "set STRATA_BENCH=1 to run";
  const std::string chunk = mixed_data(8 << 20, 11);
  const int rounds = 25;
  TempDir dir;
  write_file(dir / "chunk", chunk);
  for (const char* tool : {"gzip -6", "gzip -1", "zstd -3 -q"}) {
    double secs = seconds_of(std::string(tool) + " -c " + (dir / "chunk") + " > /dev/null");
    std::printf("[bench] peer %-10s: %.0f MB/s\n", tool, static_cast<double>(chunk.size()) / 1e6 / secs);
  }
  for (auto [c, level] : {std::tuple{Compression::gzip, 1}, std::tuple{Compression::gzip, 6},
                          std::tuple{Compression::gzip, 9}, std::tuple{Compression::zstd, 3}}) {
    NullSink null;
    HashingSink counted(null);
    auto comp = make_compressor(c, level, counted);
    ASSERT_TRUE(comp);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE((*comp)->write(chunk.data(), chunk.size()));
    ASSERT_TRUE((*comp)->finish());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double mb = static_cast<double>(chunk.size()) * rounds / 1e6;
    std::printf("[bench] strata %s level %d: %.0f MB in %.2f s = %.0f MB/s, ratio %.3f\n", std::string(to_string(c)).c_str(),
                level, mb, secs, mb / secs, static_cast<double>(counted.bytes()) / (mb * 1e6));
  }
}

}  // namespace
}  // namespace strata::archive
