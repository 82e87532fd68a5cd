// Small file-system primitives the cache directory is built from: durable atomic replacement,
// directory fsync, unique names for temp/lease files, and flock with a timeout.
//
// Locks are flock(2) locks. They belong to the open file description, so two Fds in the same
// process exclude each other just as two processes do; a lock dies with the process that holds
// it (kill -9 included). On NFSv4 the Linux client maps flock to whole-file POSIX locks held by
// the server, which still exclude other nodes but NOT other descriptors of the same process:
// callers that may be used from several threads add their own in-process mutex (Index does).
//
// Thread safety: all functions are reentrant.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace strata::store {

enum class LockMode { shared, exclusive };

// mkdir -p. Errors: io/denied naming the path.
Result<void> make_dirs(const std::string& path);
// fsync of a directory, so that a rename or unlink inside it is durable.
Result<void> fsync_dir(const std::string& dir);
// Writes data to a temp file next to path, fsyncs it, renames it over path and fsyncs the
// directory: readers see either the old or the new content, never a mix.
Result<void> write_file_atomic(const std::string& path, std::string_view data);
// Reads a whole file; corrupt if it is larger than max_size.
Result<std::string> read_file(const std::string& path, std::size_t max_size = 64u << 20);
// "<host>-<pid>-<16 random hex>": unique across processes and nodes sharing a volume.
std::string unique_name();
// Names of the entries of a directory (without "." and ".."); not_found if it does not exist.
Result<std::vector<std::string>> list_dir(const std::string& dir);

// Opens (creating) path and takes a flock, waiting up to timeout. A zero timeout tries once.
// Errors: conflict "... is busy" on timeout; io/denied on open failures.
Result<util::Fd> lock_path(const std::string& path, LockMode mode, std::chrono::milliseconds timeout);
// Tries to take a flock on an open descriptor without waiting: true if taken, false if someone
// else holds a conflicting lock.
Result<bool> try_lock(int fd, LockMode mode);

}  // namespace strata::store
