#include "integration/support/temp_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace strata::itest {

namespace {

std::string base_dir() {
  for (const char* var : {"STRATA_TEST_TMPDIR", "TMPDIR"}) {
    const char* v = std::getenv(var);
    if (v && *v) return v;
  }
  return "/tmp";
}

bool keep_requested() {
  const char* v = std::getenv("STRATA_KEEP_TEMP");
  return v && *v;
}

// Inside a test, that test's outcome decides; outside (process-wide caches destroyed at exit),
// the whole program's.
bool failed_so_far() {
  auto* unit = ::testing::UnitTest::GetInstance();
  if (unit->current_test_info() != nullptr) return ::testing::Test::HasFailure();
  return unit->Failed();
}

}  // namespace

Result<TempDir> TempDir::create(std::string_view prefix) {
  std::string pattern = base_dir() + "/strata-" + std::string(prefix) + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return fail_errno("mkdtemp " + pattern, errno);
  return TempDir(std::string(buf.data()));
}

TempDir::TempDir(TempDir&& other) noexcept
    : m_path(std::exchange(other.m_path, {})), m_keep(other.m_keep) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    release();
    m_path = std::exchange(other.m_path, {});
    m_keep = other.m_keep;
  }
  return *this;
}

TempDir::~TempDir() { release(); }

void TempDir::release() {
  if (m_path.empty()) return;
  if (m_keep || keep_requested() || failed_so_far()) {
    std::fprintf(stderr, "strata-itest: keeping %s for inspection\n", m_path.c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
    if (ec) std::fprintf(stderr, "strata-itest: cannot remove %s: %s\n", m_path.c_str(),
                         ec.message().c_str());
  }
  m_path.clear();
}

std::string TempDir::file(std::string_view relative) const {
  return m_path + "/" + std::string(relative);
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail_errno("open " + path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail(ErrorKind::io, "read " + path);
  return ss.str();
}

Result<void> write_file(const std::string& path, std::string_view content, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail_errno("open " + path, errno);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return fail_errno("write " + path, err);
    }
    done += static_cast<std::size_t>(n);
  }
  int chmod_rc = ::fchmod(fd, mode);  // O_CREAT's mode is filtered by the umask
  int chmod_err = errno;
  if (::close(fd) != 0) return fail_errno("close " + path, errno);
  if (chmod_rc != 0) return fail_errno("chmod " + path, chmod_err);
  return {};
}

}  // namespace strata::itest
