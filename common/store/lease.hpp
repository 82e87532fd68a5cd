// Leases: what running builds are using, so that `cachectl prune/gc` never deletes it.
//
// A lease is a file leases/<host>-<pid>-<random>.json listing digests (manifests, blobs) and
// layer-cache keys, on which its owner holds an exclusive flock for as long as the lease lives.
// The file is created as a hidden temp file, locked, written, fsynced and only then renamed to its
// visible name, so a visible lease file is always complete and already locked by its owner. The
// lock dies with the process (kill -9 included, and on NFSv4 when the client's state expires), so
// a visible lease file whose flock can be taken is stale and is removed by whoever finds it.
// Contents never change in place: update() publishes a new lease file and then removes the old
// one, so a concurrent reader always sees a superset of what is in use.
//
//
// The deletion fence (cache-dir/leases.lock) closes the gap between "a deleter read the leases"
// and "it unlinked the blobs": deleters (prune, gc, verify --repair) hold it exclusively from
// reading the leases to their last unlink (lock_deletions()), and publishing a lease holds it
// shared. So a lease was either seen by a running deleter or published after that deleter's last
// unlink. Protocol for users: lease the digests FIRST, then check that their blobs are present;
// what was present then stays present for as long as the lease lives.
//
// Thread safety: a Lease is owned by one thread at a time; active_leases() is reentrant;
// LeaseSet may be shared by threads.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "digest/digest.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace strata::store {

struct LeaseContents {
  std::set<digest::Digest> digests;
  std::set<std::string> cache_keys;
  std::string owner;  // for humans: "executor (build of ctx/Dockerfile)"

  void merge(const LeaseContents& other);
  bool empty() const { return digests.empty() && cache_keys.empty(); }
};

class Lease {
 public:
  // Publishes a lease in cache_dir/leases/. Errors: io/no_space.
  static Result<Lease> acquire(const std::string& cache_dir, LeaseContents contents);

  Lease(Lease&&) noexcept;
  Lease& operator=(Lease&&) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();  // release()

  // Replaces the contents (publish new, then remove old).
  Result<void> update(LeaseContents contents);
  // Adds to the contents.
  Result<void> extend(const LeaseContents& more);
  // Removes the lease file and drops the lock. Idempotent.
  void release();

  const LeaseContents& contents() const { return m_contents; }
  const std::string& path() const { return m_path; }

 private:
  Lease(std::string cache_dir, std::string path, util::Fd fd, LeaseContents contents);
  std::string m_cache_dir;
  std::string m_path;
  util::Fd m_fd;
  LeaseContents m_contents;
};

struct ActiveLeases {
  LeaseContents in_use;      // union of every live lease
  std::size_t live = 0;      // live lease files
  std::size_t removed = 0;   // stale lease files removed by this call
};

// A lease grown by the threads of one build or warm run: add() publishes a new lease file only
// when something new is added (one fsync + rename each time), the first add() creates it. The
// lease lives until the LeaseSet is destroyed. Errors: those of Lease::acquire/update.
class LeaseSet {
 public:
  LeaseSet(std::string cache_dir, std::string owner) : m_cache_dir(std::move(cache_dir)), m_owner(std::move(owner)) {}
  Result<void> add(const LeaseContents& more);
  LeaseContents contents() const;
  const std::string& cache_dir() const { return m_cache_dir; }

 private:
  mutable std::mutex m_mutex;
  std::string m_cache_dir;
  std::string m_owner;
  std::optional<Lease> m_lease;
};

// Takes the deletion fence exclusively (see above), waiting up to timeout (then conflict, "busy").
Result<util::Fd> lock_deletions(const std::string& cache_dir,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

// Scans cache_dir/leases/: unions live leases, removes stale ones (and abandoned temp files).
// A missing leases/ directory means no lease.
Result<ActiveLeases> active_leases(const std::string& cache_dir);

}  // namespace strata::store
