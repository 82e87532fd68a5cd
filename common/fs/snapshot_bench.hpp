// A benchmark of snapshots against a plain metadata walk, callable from a bench program or a test:
// the issue's target is "a snapshot of a step that touched one file in a 100k-file root costs at
// most 2x `find ROOT -printf '%p %s %T@ %m\n'`". The peer here is an in-process equivalent of
// that find (nftw + lstat + the same formatting to /dev/null), so both sides share the page
// cache state and the CPU; bench/snapshot.sh compares with the real find.
//
// Thread safety: reentrant; the functions write only below the directory they are given.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "fs/snapshot.hpp"
#include "util/result.hpp"

namespace strata::fs {

// Creates `files` small files below dir (which must exist and be empty) in a tree shaped like an
// image: 100 files per directory, directories nested three levels deep.
Result<void> make_bench_tree(const std::string& dir, std::size_t files);

struct SnapshotBenchReport {
  std::size_t entries = 0;
  std::vector<double> walk_ms;      // the find-like walk, one per run
  std::vector<double> snapshot_ms;  // Snapshotter::snapshot() after changing one file, one per run
  double walk_median_ms = 0;
  double snapshot_median_ms = 0;
  double ratio = 0;  // snapshot_median_ms / walk_median_ms
  std::size_t changes_last_run = 0;
  std::size_t snapshotter_memory_bytes = 0;
};

// Alternates `runs` find-like walks and `runs` snapshots (each after rewriting one file of the
// tree with a new size) and reports medians. Errors from the walk or the snapshot.
Result<SnapshotBenchReport> run_snapshot_bench(const std::string& dir, int runs, SnapshotMode mode);

}  // namespace strata::fs
