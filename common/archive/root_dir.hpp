// Path safety for extraction: every file the extractor touches is reached through a RootDir, which
// resolves paths the way a process chroot()ed into the root would (symlinks, absolute or relative,
// and `..` never leave it), instead of by string concatenation.
//
// With Linux >= 5.6 this is openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, which the kernel
// applies atomically. Where openat2 is missing (probed once at runtime: ENOSYS, or EPERM from a
// seccomp filter), the same semantics are emulated one component at a time with O_NOFOLLOW opens,
// fstatat and readlinkat; a symlink swapped in between two steps is then seen by the next step and
// still cannot lead outside, because every step starts from a directory fd already inside the root.
//
// Thread safety: a RootDir is immutable after open(); concurrent calls are fine.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace strata::archive {

// Cleans a tar entry name into a path relative to the root: a leading "/" and "./" are stripped,
// empty and "." components dropped, ".." resolved lexically (as Go's filepath.Clean, which docker
// and containerd apply). "" means the root itself. Errors: corrupt (naming the entry) when ".."
// would climb above the root, e.g. "../x" or "a/../../x".
Result<std::string> clean_entry_path(std::string_view name);

// Splits a cleaned relative path into (parent, base); the parent of "a" is "".
std::pair<std::string_view, std::string_view> split_parent(std::string_view path);

enum class ResolveMode { automatic, openat2, manual };
enum class CreateParents { no, yes };

class RootDir {
 public:
  // Opens `path` (which must be a directory) as the root. `automatic` uses openat2 when the kernel
  // has it. Errors: not_found/io/denied; unsupported if ResolveMode::openat2 is forced but missing.
  static Result<RootDir> open(const std::string& path, ResolveMode mode = ResolveMode::automatic);

  int fd() const { return m_fd.get(); }
  const std::string& path() const { return m_path; }
  ResolveMode mode() const { return m_mode; }  // never `automatic` once opened

  // Opens the cleaned relative path `rel` inside the root with open(2) `flags` (O_CLOEXEC is
  // added). The final component is followed unless `flags` has O_NOFOLLOW. Returns the fd, or
  // -errno (so callers can branch on ENOENT/ENOTDIR without string errors).
  int open_raw(std::string_view rel, int flags) const;

  // As open_raw, as a Result; the error names `rel`.
  Result<util::Fd> open(std::string_view rel, int flags) const;

  // An O_PATH fd of directory `rel`; with CreateParents::yes missing components are created with
  // mode 0755 (as docker does for entries whose parents are absent from the layer).
  Result<util::Fd> open_dir(std::string_view rel, CreateParents create) const;

  static bool kernel_has_openat2();

 private:
  RootDir(util::Fd fd, std::string path, ResolveMode mode)
      : m_fd(std::move(fd)), m_path(std::move(path)), m_mode(mode) {}
  int resolve_manual(std::string_view rel, int flags) const;

  util::Fd m_fd;
  std::string m_path;
  ResolveMode m_mode;
};

// Removes `name` in `dirfd` and, if it is a directory, everything below it, never following
// symlinks. A missing `name` is not an error.
Result<void> remove_all_at(int dirfd, const std::string& name);

// Names in the directory `dirfd` (not "." or ".."). Errors: io.
Result<std::vector<std::string>> list_dir_at(int dirfd);

}  // namespace strata::archive
