// CacheDir: the whole cache directory (docs/cache-dir.md): blobs/ + ingest/ (BlobStore),
// index/ + index.lock (Index), oci-layout + index.json (OCI layout view), leases/ (Lease).
//
// open() creates what is missing and rebuilds an index whose schema is older than this build's
// (reindex); an index written by a newer strata is refused (unsupported).
//
// Thread safety: a CacheDir is immutable after open(); share it (by const reference) between
// threads. Several processes and nodes may open the same directory at once.
#pragma once

#include <chrono>
#include <string>

#include "store/blob_store.hpp"
#include "store/index.hpp"
#include "store/lease.hpp"
#include "store/reindex.hpp"
#include "util/result.hpp"

namespace strata::store {

struct CacheDirOptions {
  Clock clock = system_clock();
  std::chrono::milliseconds lock_timeout{30'000};
};

class CacheDir {
 public:
  static Result<CacheDir> open(std::string root, CacheDirOptions options = {});

  const std::string& root() const { return m_blobs.root(); }
  const BlobStore& blobs() const { return m_blobs; }
  const Index& index() const { return m_index; }

  Result<Lease> lease(LeaseContents contents) const { return Lease::acquire(root(), std::move(contents)); }
  Result<ActiveLeases> active_leases() const { return store::active_leases(root()); }
  Result<ReindexReport> reindex() const { return store::reindex(m_blobs, m_index); }

 private:
  CacheDir(BlobStore blobs, Index index) : m_blobs(std::move(blobs)), m_index(std::move(index)) {}
  BlobStore m_blobs;
  Index m_index;
};

}  // namespace strata::store
