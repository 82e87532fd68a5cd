// TempDir for unit tests: a fresh directory under $TMPDIR, removed when the test passes and kept
// (its path printed) when it failed, so the state can be looked at.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace strata::unit {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "strata-unit") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
    m_path = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "keeping temp dir of the failed test: %s\n", m_path.c_str());
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

}  // namespace strata::unit
