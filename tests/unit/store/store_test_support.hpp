// Helpers for the store unit tests: a temp dir kept (and printed) when the test failed, a fork
// helper whose child reports through its exit status, and pipes to sequence processes without
// sleeping.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "unit/temp_dir.hpp"


namespace strata::store::test {

// The shared temp dir (tests/unit/temp_dir.hpp), named after this folder's tests.
class TempDir : public unit::TempDir {
 public:
  TempDir() : unit::TempDir("strata-store") {}
};

// A one-way pipe used as a "ready" signal between a parent and its forked child.
class Signal {
 public:
  Signal() {
    if (::pipe(m_fds) != 0) std::abort();
  }
  ~Signal() {
    ::close(m_fds[0]);
    ::close(m_fds[1]);
  }
  void notify() {
    char c = 'x';
    (void)!::write(m_fds[1], &c, 1);
  }
  // Blocks until notify() was called (or every writer is gone). False if the writer vanished.
  bool wait() {
    char c;
    return ::read(m_fds[0], &c, 1) == 1;
  }

 private:
  int m_fds[2];
};

// Forks; the child runs fn and _exit()s with its return value. Children must not use RocksDB
// read-write (the parent's background threads do not exist in the child).
inline pid_t fork_child(const std::function<int()>& fn) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 99;
    try {
      rc = fn();
    } catch (...) {
      rc = 98;
    }
    ::_exit(rc);
  }
  return pid;
}

// Waits for a child: its exit code, or 128 + signal number.
inline int wait_child(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace strata::store::test
