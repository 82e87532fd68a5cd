// Context archives: hostile entries are refused before anything is written;
// good archives (plain, gzip, zstd) are unpacked.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "archive/compression.hpp"
#include "archive/stream.hpp"
#include "context/safe_extract.hpp"

namespace strata::context {
namespace {

struct RawEntry {
  std::string name;
  char type =
      '0'; // '0' file, '2' symlink, '1' hardlink, '5' dir, '3' char device
  std::string content;
  std::string link;
};

// A ustar archive written byte by byte, so that names the project's TarWriter
// refuses can be made.
std::string raw_tar(const std::vector<RawEntry> &entries) {
  std::string out;
  for (const auto &e : entries) {
    char h[512];
    std::memset(h, 0, sizeof h);
    std::snprintf(h, 100, "%s", e.name.c_str());
    std::snprintf(h + 100, 8, "%07o", e.type == '5' ? 0755 : 0644);
    std::snprintf(h + 108, 8, "%07o", 0);
    std::snprintf(h + 116, 8, "%07o", 0);
    std::snprintf(h + 124, 12, "%011o",
                  static_cast<unsigned>(e.type == '0' ? e.content.size() : 0));
    std::snprintf(h + 136, 12, "%011o", 1700000000u);
    h[156] = e.type;
    std::snprintf(h + 157, 100, "%s", e.link.c_str());
    std::memcpy(h + 257,
                "ustar\0"
                "00",
                8);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h)
      sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    out.append(h, 512);
    if (e.type == '0') {
      out += e.content;
      out.append((512 - e.content.size() % 512) % 512, '\0');
    }
  }
  out.append(1024, '\0');
  return out;
}

class SafeExtract : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-ctx-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    m_dir = tmpl;
    ASSERT_EQ(::mkdir(dest().c_str(), 0755), 0);
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }
  std::string dest() const { return m_dir + "/dest"; }
  std::string write(const std::string &bytes) {
    std::string p = m_dir + "/archive";
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  Result<ExtractSummary> extract(const std::string &bytes) {
    return extract_context_archive(write(bytes), dest(), "context test");
  }
  bool dest_empty() const { return std::filesystem::is_empty(dest()); }
  std::string m_dir;
};

std::string compress(archive::Compression c, const std::string &data) {
  archive::StringSink sink;
  auto comp = archive::make_compressor(c, 0, sink);
  EXPECT_TRUE(comp);
  EXPECT_TRUE((*comp)->write(data.data(), data.size()));
  EXPECT_TRUE((*comp)->finish());
  return sink.take();
}

TEST_F(SafeExtract, UnpacksPlainGzipAndZstd) {
  std::string tar = raw_tar({{"Dockerfile", '0', "FROM scratch\n", ""},
                             {"src/", '5', "", ""},
                             {"src/a.txt", '0', "hello\n", ""},
                             {"src/link", '2', "", "a.txt"},
                             {"up", '2', "", "src/../src/a.txt"}});
  for (auto c : {archive::Compression::none, archive::Compression::gzip,
                 archive::Compression::zstd}) {
    std::filesystem::remove_all(dest());
    ::mkdir(dest().c_str(), 0755);
    auto r = extract(c == archive::Compression::none ? tar : compress(c, tar));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->entries, 5u);
    std::ifstream in(dest() + "/src/link");
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), "hello\n");
  }
}

void expect_refused(Result<ExtractSummary> r, const std::string &needle) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::corrupt) << r.error().message();
  EXPECT_NE(r.error().message().find("context test"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find(needle), std::string::npos)
      << r.error().message();
}

TEST_F(SafeExtract, RefusesHostileEntriesBeforeWritingAnything) {
  expect_refused(
      extract(raw_tar({{"ok", '0', "x", ""}, {"../evil", '0', "x", ""}})),
      "\"..\"");
  expect_refused(extract(raw_tar({{"a/../../evil", '0', "x", ""}})), "\"..\"");
  expect_refused(extract(raw_tar({{"/etc/evil", '0', "x", ""}})),
                 "absolute path");
  expect_refused(extract(raw_tar({{"link", '2', "", "/etc/passwd"}})),
                 "symlink to an absolute path");
  expect_refused(extract(raw_tar({{"a/link", '2', "", "../../etc"}})),
                 "symlink pointing out");
  expect_refused(extract(raw_tar({{"hl", '1', "", "../outside"}})), "hardlink");
  expect_refused(extract(raw_tar({{"null", '3', "", ""}})), "device node");
  EXPECT_TRUE(dest_empty()) << "nothing may be written from a refused archive";
}

TEST_F(SafeExtract, RefusesWhatIsNotATar) {
  expect_refused(extract("this is not an archive at all, just some text that "
                         "is long enough\n"),
                 "not a tar archive");
  expect_refused(
      extract(compress(archive::Compression::gzip, "gzip of plain text\n")),
      "not a tar archive");
  expect_refused(extract(""), "not a tar archive");
}

TEST(UnsafeEntryReason, LinkTargetsAreJudgedFromTheLinksDirectory) {
  EXPECT_EQ(unsafe_entry_reason("a/b/link", true, false, false, "../x"), "");
  EXPECT_EQ(unsafe_entry_reason("a/b/link", true, false, false, "../../x"), "");
  EXPECT_NE(unsafe_entry_reason("a/b/link", true, false, false, "../../../x"),
            "");
  EXPECT_EQ(unsafe_entry_reason("dir/", false, false, false, ""), "");
  EXPECT_EQ(unsafe_entry_reason("./x", false, false, false, ""), "");
}

} // namespace
} // namespace strata::context
