// Helpers for the build engine's unit tests: temp dirs and reading layer blobs back.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "archive/compression.hpp"
#include "archive/stream.hpp"
#include "archive/tar_reader.hpp"
#include "util/fd.hpp"

namespace strata::build::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-engine-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    m_path = tmpl;
  }
  ~TempDir() {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "keeping %s\n", m_path.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  const std::string& path() const { return m_path; }
  std::string operator/(std::string_view rel) const { return m_path + "/" + std::string(rel); }

 private:
  std::string m_path;
};

inline void write_file(const std::string& path, std::string_view content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ReadEntry {
  archive::TarEntry meta;
  std::string content;
};

// Every entry of a (possibly compressed) tar file, by path, with regular files' content.
inline std::map<std::string, ReadEntry> read_tar(const std::string& path) {
  std::map<std::string, ReadEntry> out;
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd) << path;
  if (!fd) return out;
  archive::FdSource file(fd.get(), path);
  auto plain = archive::open_decompressed(file);
  EXPECT_TRUE(plain);
  if (!plain) return out;
  auto reader = archive::TarReader::open(**plain);
  EXPECT_TRUE(reader);
  if (!reader) return out;
  for (;;) {
    auto next = (*reader)->next();
    EXPECT_TRUE(next) << (next ? "" : next.error().message());
    if (!next || !*next) break;
    ReadEntry e{**next, {}};
    for (;;) {
      auto block = (*reader)->read_block();
      if (!block || block->size == 0) break;
      e.content.append(static_cast<const char*>(block->data), block->size);
    }
    out[e.meta.path] = std::move(e);
  }
  return out;
}

}  // namespace strata::build::test
