// Helpers shared by the archive unit tests: temp dirs, files, hand-made tar bytes, CLI runs.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "unit/file_helpers.hpp"
#include "unit/temp_dir.hpp"

namespace strata::archive::test {

// The shared temp dir (tests/unit/temp_dir.hpp), named after this folder's tests.
class TempDir : public unit::TempDir {
 public:
  TempDir() : unit::TempDir("strata-archive") {}
};

inline void write_file(const std::string& path, std::string_view content, mode_t mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  ::chmod(path.c_str(), mode);
}

using unit::exists;
using unit::lstat_of;
using unit::read_file;

inline bool dir_is_empty(const std::string& path) {
  return std::filesystem::is_empty(path);
}

// Runs a shell command, returning its stdout; the exit status goes to *status.
inline std::string run(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (status) *status = rc;
  return out;
}

// Hand-made ustar records, to produce archives our writer refuses to write.
inline std::string tar_header(std::string_view name, char type, std::size_t size,
                              std::string_view link = {}, unsigned mode = 0644, long mtime = 1700000000) {
  std::string h(512, '\0');
  auto put = [&](std::size_t off, std::size_t len, std::string_view v) {
    if (!v.empty()) std::memcpy(h.data() + off, v.data(), std::min(len, v.size()));
  };
  auto octal = [&](std::size_t off, std::size_t len, unsigned long long v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(len - 1), v);
    put(off, len - 1, buf);
  };
  put(0, 100, name);
  octal(100, 8, mode);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, static_cast<unsigned long long>(mtime));
  h[156] = type;
  put(157, 100, link);
  put(257, 6, std::string_view("ustar\0", 6));
  put(263, 2, "00");
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06o", sum);
  std::memcpy(h.data() + 148, buf, 7);
  return h;
}

inline std::string tar_record(std::string_view name, char type, std::string_view content = {},
                              std::string_view link = {}, unsigned mode = 0644, long mtime = 1700000000) {
  std::string r = tar_header(name, type, content.size(), link, mode, mtime);
  r += content;
  r.append((512 - content.size() % 512) % 512, '\0');
  return r;
}

inline std::string pax_record(std::string_view key, std::string_view value) {
  std::string body = " " + std::string(key) + "=" + std::string(value) + "\n";
  std::size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

inline std::string tar_end() { return std::string(1024, '\0'); }

}  // namespace strata::archive::test
