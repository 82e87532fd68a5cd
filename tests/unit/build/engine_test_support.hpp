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

#include "unit/temp_dir.hpp"
#include "archive/compression.hpp"
#include "archive/stream.hpp"
#include "archive/tar_reader.hpp"
#include "util/fd.hpp"

namespace strata::build::test {

// The shared temp dir (tests/unit/temp_dir.hpp), named after this folder's tests.
class TempDir : public unit::TempDir {
 public:
  TempDir() : unit::TempDir("strata-engine") {}
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
