#include "fs/snapshot_bench.hpp"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>

#include "util/fd.hpp"

namespace strata::fs {
namespace {

Result<void> write_small(const std::string& path, std::string_view content) {
  util::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return fail_errno("create " + path, errno);
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    return fail_errno("write " + path, errno);
  }
  return {};
}

// nftw's callback has no user pointer: the sink of the walk in progress lives here (the bench
// is not meant to run on several threads at once).
thread_local struct FindSink {
  int fd = -1;
  std::string buffer;
  std::size_t entries = 0;
} t_sink;

int find_like_entry(const char* path, const struct stat* st, int, struct FTW*) {
  char line[4200];
  int n = std::snprintf(line, sizeof line, "%s %lld %lld.%09ld %o\n", path, static_cast<long long>(st->st_size),
                        static_cast<long long>(st->st_mtim.tv_sec), st->st_mtim.tv_nsec, st->st_mode & 07777);
  if (n > 0) t_sink.buffer.append(line, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof line - 1));
  if (t_sink.buffer.size() > 60000) {
    (void)!::write(t_sink.fd, t_sink.buffer.data(), t_sink.buffer.size());
    t_sink.buffer.clear();
  }
  ++t_sink.entries;
  return 0;
}

Result<std::size_t> find_like_walk(const std::string& dir) {
  util::Fd null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (!null_fd) return fail_errno("open /dev/null", errno);
  t_sink.fd = null_fd.get();
  t_sink.buffer.clear();
  t_sink.entries = 0;
  if (::nftw(dir.c_str(), find_like_entry, 64, FTW_PHYS) != 0) return fail_errno("walk " + dir, errno);
  (void)!::write(t_sink.fd, t_sink.buffer.data(), t_sink.buffer.size());
  t_sink.fd = -1;
  return t_sink.entries;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Result<void> make_bench_tree(const std::string& dir, std::size_t files) {
  const std::size_t dirs = (files + 99) / 100;
  std::size_t made = 0;
  for (std::size_t d = 0; d < dirs; ++d) {
    std::string a = dir + "/d" + std::to_string(d / 100);
    std::string b = a + "/s" + std::to_string(d % 100 / 10);
    std::string c = b + "/t" + std::to_string(d % 10);
    for (const std::string* p : {&a, &b, &c}) {
      if (::mkdir(p->c_str(), 0755) != 0 && errno != EEXIST) return fail_errno("mkdir " + *p, errno);
    }
    for (std::size_t f = 0; f < 100 && made < files; ++f, ++made) {
      TRY(write_small(c + "/file" + std::to_string(f) + ".txt", "content of file " + std::to_string(made) + "\n"));
    }
  }
  return {};
}

Result<SnapshotBenchReport> run_snapshot_bench(const std::string& dir, int runs, SnapshotMode mode) {
  SnapshotBenchReport report;
  SnapshotOptions options;
  options.mode = mode;
  Snapshotter snapshotter = TRY(Snapshotter::create(dir, options));
  const std::string victim = dir + "/d0/s0/t0/file0.txt";
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    report.entries = TRY(find_like_walk(dir));
    report.walk_ms.push_back(ms_since(start));

    // What a RUN step that touches one file leaves behind.
    TRY(write_small(victim, std::string(static_cast<std::size_t>(run) + 1, 'x')));
    start = std::chrono::steady_clock::now();
    auto changes = TRY(snapshotter.snapshot());
    report.snapshot_ms.push_back(ms_since(start));
    report.changes_last_run = changes.size();
  }
  report.walk_median_ms = median(report.walk_ms);
  report.snapshot_median_ms = median(report.snapshot_ms);
  report.ratio = report.walk_median_ms > 0 ? report.snapshot_median_ms / report.walk_median_ms : 0;
  report.snapshotter_memory_bytes = snapshotter.state().memory_bytes();
  return report;
}

}  // namespace strata::fs
