// cachectl sync: copies layer-cache entries between a cache dir and a cache repo (either
// direction) and between two cache repos.
//
// An entry is a small image (cache/entry.hpp): manifest, config, one layer; a repo→repo sync
// copies any image tag the same way (index tags are skipped). Per entry:
//   1. skip it when the destination already has it: a repo has the tag naming the same manifest
//      digest (one HEAD); a cache dir has a layer-cache record with that key and manifest digest,
//      and its blobs;
//   2. copy each blob the destination lacks (a registry HEAD / a local stat first): into a cache
//      dir through a BlobWriter (verified against the digest and size before it becomes visible);
//      into a registry by upload (the registry verifies the digest), or by a cross-repository
//      mount when both repos are on one registry; repo→repo blobs are staged in a temporary
//      blob store (verified) and removed after upload;
//   3. publish the entry last: the manifest PUT by tag (the digest the registry returns must be
//      the source's), or the index records of the cache dir (LocalLayerStore::record).
// Entries are copied in parallel. A run that is interrupted leaves only complete, verified blobs
// and entries that are either fully published or absent; running it again skips what is there,
// so it resumes where it stopped. Into a cache dir the entry's digests are leased before they are
// checked, so a concurrent prune does not delete them midway; out of a cache dir the same lease
// protects what is being read.
//
// Thread safety: run_sync() is called by one thread (it starts its own workers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/registry_flags.hpp"
#include "prune/policy.hpp"
#include "store/clock.hpp"
#include "util/result.hpp"

namespace strata::cachectl {

struct SyncOptions {
  std::string source;       // "dir:PATH", "/abs/path", "./rel" → cache dir; else a registry repository
  std::string destination;
  std::vector<prune::Filter> filters;
  bool dry_run = false;
  int parallel = 4;
  std::string staging_dir;  // repo→repo staging ("" → $TMPDIR or /tmp)
  store::Clock clock;
};

struct SyncItemReport {
  std::string key;     // tag / cache key
  std::string step;
  std::string digest;  // manifest digest
  std::uint64_t size = 0;
  std::string status;  // copied / would copy / present / skipped / failed
  std::string detail;
  std::size_t blobs_copied = 0;
  std::size_t blobs_present = 0;
  std::uint64_t bytes_copied = 0;
};

struct SyncReport {
  std::string source, destination;
  std::vector<SyncItemReport> items;
  std::vector<std::string> errors;  // source entries that could not be read
  std::size_t copied = 0, present = 0, skipped = 0, failed = 0;
  std::size_t blobs_copied = 0, blobs_present = 0;
  std::uint64_t bytes_copied = 0;
};

// Errors: usage-style invalid_argument for endpoints (dir→dir, bad repository), and those of
// listing the source. Per-entry failures are in the report (status "failed").
Result<SyncReport> run_sync(const SyncOptions& options, const cli::RegistryFlags& registry);

}  // namespace strata::cachectl
