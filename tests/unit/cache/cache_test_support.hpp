// Helpers for the layer-cache unit tests: a temp dir kept when the test failed, file helpers,
// and a fake layer with a correct descriptor.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "unit/temp_dir.hpp"
#include "cache/entry.hpp"
#include "digest/digest.hpp"
#include "image/media_types.hpp"

namespace strata::cache::test {

// The shared temp dir (tests/unit/temp_dir.hpp), named after this folder's tests.
class TempDir : public unit::TempDir {
 public:
  TempDir() : unit::TempDir("strata-cache") {}
};

inline void write_file(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A "layer" file (bytes need not be a real tar: the cache never looks inside).
inline LayerFile make_layer(const std::string& path, const std::string& content) {
  write_file(path, content);
  LayerFile l;
  l.descriptor.media_type = std::string(image::media::oci_layer_gzip);
  l.descriptor.digest = digest::sha256(content);
  l.descriptor.size = static_cast<std::int64_t>(content.size());
  l.diff_id = digest::sha256("uncompressed:" + content);
  l.path = path;
  return l;
}

}  // namespace strata::cache::test
