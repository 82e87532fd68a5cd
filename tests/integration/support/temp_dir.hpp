// TempDir: a fresh directory for one test (or one test process) that cleans up after success and
// stays behind after failure, so the files a failing test left (registry logs, configs, images)
// can be looked at. As ccache's unittest: the path of a kept directory is printed to stderr.
//
// Kept when: the current test has a failure (::testing::Test::HasFailure()), or, for a directory
// destroyed outside any test (a process-wide cache), when the whole test program failed; or
// always when the environment variable STRATA_KEEP_TEMP is set to a non-empty value.
//
// Location: $STRATA_TEST_TMPDIR, else $TMPDIR, else /tmp. Thread safety: none needed (one owner).
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace strata::itest {

class TempDir {
 public:
  // Creates "<base>/strata-<prefix>-XXXXXX" (mkdtemp). Errors: io with the base path.
  static Result<TempDir> create(std::string_view prefix = "itest");

  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::string& path() const { return m_path; }
  // path() + "/" + relative.
  std::string file(std::string_view relative) const;
  // Keeps the directory whatever the outcome (e.g. for a demo).
  void keep() { m_keep = true; }

 private:
  explicit TempDir(std::string path) : m_path(std::move(path)) {}
  void release();

  std::string m_path;
  bool m_keep = false;
};

// Small file helpers for tests (whole-file; errors carry the path).
Result<std::string> read_file(const std::string& path);
Result<void> write_file(const std::string& path, std::string_view content, unsigned mode = 0644);

}  // namespace strata::itest
