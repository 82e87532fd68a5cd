// Helpers for the run tests: a temp dir kept when a test fails, a busybox root file system
// (the static busybox of the host plus one symlink per applet we use, /etc/passwd and
// /etc/group with an `app` user), and output capture through a memfd.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "unit/temp_dir.hpp"
#include "run/run.hpp"
#include "util/fd.hpp"

namespace strata::run::testing {

// The shared temp dir (tests/unit/temp_dir.hpp), named after this folder's tests.
class TempDir : public unit::TempDir {
 public:
  TempDir() : unit::TempDir("strata-run-test") {}
};

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

inline constexpr const char* k_busybox = "/bin/busybox";

inline bool have_busybox() { return ::access(k_busybox, X_OK) == 0; }

// <root>/bin/busybox with applet links, /etc/passwd, /etc/group, /tmp 1777, /root, /home/app.
// No /proc, /dev, /sys, /etc/resolv.conf or /etc/hosts: the runner must cope.
inline void make_busybox_root(const std::string& root) {
  namespace fs = std::filesystem;
  fs::create_directories(root + "/bin");
  fs::create_directories(root + "/etc");
  fs::create_directories(root + "/root");
  fs::create_directories(root + "/home/app");
  fs::create_directories(root + "/tmp");
  ::chmod((root + "/tmp").c_str(), 01777);
  ::chown((root + "/home/app").c_str(), 1000, 1000);
  fs::copy_file(k_busybox, root + "/bin/busybox");
  ::chmod((root + "/bin/busybox").c_str(), 0755);
  for (const char* applet : {"sh", "id", "ls", "cat", "echo", "sleep", "touch", "mkdir", "env", "pwd", "mount",
                             "stat", "wc", "kill", "grep", "true", "false", "rm", "test", "hostname", "readlink",
                             "ip", "cut", "head"}) {
    fs::create_symlink("busybox", root + "/bin/" + applet);
  }
  write_file(root + "/etc/passwd",
             "root:x:0:0:root:/root:/bin/sh\n"
             "app:x:1000:1000::/home/app:/bin/sh\n"
             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  write_file(root + "/etc/group",
             "root:x:0:\n"
             "wheel:x:10:root,app\n"
             "app:x:1000:\n"
             "staff:x:2000:app\n"
             "nogroup:x:65534:\n");
}

// A memfd the step writes into; text() reads everything written so far.
class Capture {
 public:
  Capture() : m_fd(::memfd_create("strata-run-capture", MFD_CLOEXEC)) {}
  int fd() const { return m_fd.get(); }
  std::string text() const {
    std::string out;
    char buf[4096];
    off_t off = 0;
    while (true) {
      ssize_t n = ::pread(m_fd.get(), buf, sizeof buf, off);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
      off += n;
    }
    return out;
  }

 private:
  util::Fd m_fd;
};

// Whether any live process has `needle` as an argument (how the tests find a `sleep 987654`
// a step left behind, whatever PID namespace it was started in). Zombies have no cmdline.
inline bool process_with_arg_alive(const std::string& needle) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return false;
  bool found = false;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string cmdline = read_file(std::string("/proc/") + e->d_name + "/cmdline");
    std::size_t pos = 0;
    while (pos < cmdline.size()) {
      std::size_t end = cmdline.find('\0', pos);
      if (end == std::string::npos) end = cmdline.size();
      if (cmdline.compare(pos, end - pos, needle) == 0) found = true;
      pos = end + 1;
    }
  }
  ::closedir(dir);
  return found;
}

}  // namespace strata::run::testing
