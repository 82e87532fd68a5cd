// Not a timed test: prints how a snapshot compares with a find-like walk of the same 100k-file
// tree (docs/snapshots.md quotes these figures). It fails only if the snapshot is wrong.
#include "fs/snapshot_bench.hpp"

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

#include "unit/fs/fs_test_support.hpp"

namespace strata::fs {
namespace {

// Opt-in (STRATA_BENCH=1): building 100k files takes ~25 s; bench/ runs it for the report.
TEST(SnapshotBench, OneTouchedFileIn100kFiles) {
  if (!std::getenv("STRATA_BENCH")) GTEST_SKIP() << "set STRATA_BENCH=1 to run";
  std::size_t files = 100000;
  if (const char* env = std::getenv("STRATA_BENCH_FILES")) files = std::strtoull(env, nullptr, 10);
  testing::TempDir t;
  ASSERT_TRUE(make_bench_tree(t.path(), files).has_value());
  for (SnapshotMode mode : {SnapshotMode::full, SnapshotMode::time}) {
    auto report = run_snapshot_bench(t.path(), 5, mode);
    ASSERT_TRUE(report.has_value()) << report.error().message();
    // The rewritten file and its three parent directories.
    EXPECT_EQ(report->changes_last_run, 4u);
    std::printf("snapshot bench (%s mode): %zu entries, find-like walk median %.1f ms, snapshot median %.1f ms, "
                "ratio %.2f, state %.1f MiB\n",
                std::string(to_string(mode)).c_str(), report->entries, report->walk_median_ms,
                report->snapshot_median_ms, report->ratio, report->snapshotter_memory_bytes / 1048576.0);
  }
}

}  // namespace
}  // namespace strata::fs
