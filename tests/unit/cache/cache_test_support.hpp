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

#include "cache/entry.hpp"
#include "digest/digest.hpp"
#include "image/media_types.hpp"

namespace strata::cache::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-cache-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (!p) std::abort();
    m_path = p;
  }
  ~TempDir() {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "cache test failed: keeping %s\n", m_path.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  const std::string& path() const { return m_path; }
  std::string operator/(const std::string& rel) const { return m_path + "/" + rel; }

 private:
  std::string m_path;
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
