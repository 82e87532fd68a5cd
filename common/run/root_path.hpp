// Paths inside a build root, resolved as a process chroot()ed into it would see them, and the
// placeholders a RUN step needs as mount points.
//
// Mount targets come from the image (a layer may hold /etc/resolv.conf -> /etc/host-resolv or
// /proc -> /), so they are never joined by string concatenation: every component is looked up
// with lstat and symlinks are followed with the root standing for '/', so nothing we create or
// mount on can be outside the root. Resolution happens before the step runs and nothing else
// writes to the root meanwhile, so a component-by-component walk is race-free here.
//
// Thread safety: free functions are reentrant; a Placeholders object is used by one thread.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace strata::run {

struct RootPath {
  std::string rel;   // normalized, relative to the root, no leading '/'; "" is the root itself
  std::string host;  // root + "/" + rel, the path to use from outside
  bool exists = false;
};

// Resolves `path` (absolute or relative, as seen inside `root`). Symlinks in every component,
// the last one included, are followed; absolute targets restart at the root and '..' stops at
// it. Components after the first missing one are taken literally. Errors: invalid_argument for
// a NUL byte, io (ELOOP) after 40 links, io/denied from lstat.
Result<RootPath> resolve_in_root(const std::string& root, std::string_view path);

// Joins root and a normalized relative path ("/" + rel when root is "/").
std::string join_root(const std::string& root, std::string_view rel);

enum class NodeKind { directory, file };

// Mount points and parent directories created for one step; cleanup() removes what is still
// removable (empty directories, the placeholder files) in reverse order and restores the
// modification time of the pre-existing directory it created things in, so that a snapshot does
// not see the parent as modified. Anything the step wrote into a created directory stays (it is
// a real change of the step). The destructor does not clean up: call cleanup() after the
// mounts are gone.
class Placeholders {
 public:
  explicit Placeholders(std::string root) : m_root(std::move(root)) {}
  Placeholders(Placeholders&&) = default;
  Placeholders& operator=(Placeholders&&) = default;

  // Makes sure `path` (inside the root) exists as `kind`, creating missing parents as
  // directories 0755 root:root and the node itself (directory 0755 or empty file 0644).
  // Returns the resolved path. Errors: conflict when the path exists as the other kind (a
  // directory where a file mount needs a file, or the reverse), io/denied from the file system.
  Result<RootPath> ensure(std::string_view path, NodeKind kind);

  // Creates a missing directory chain (for WORKDIR) that is NOT recorded: it stays, as docker
  // keeps a RUN's missing working directory in the layer. New directories are 0755, owned by
  // `owner` (uid, gid) when given (BuildKit's WORKDIR under USER), else by root.
  static Result<RootPath> make_dirs(const std::string& root, std::string_view path,
                                    std::optional<std::pair<uid_t, gid_t>> owner = std::nullopt);

  // Relative paths created by ensure(), in creation order.
  const std::vector<std::string>& created() const { return m_created; }

  // Removes created nodes (best effort, never fails: what cannot be removed stays as a change).
  void cleanup();

 private:
  struct Touched {
    std::string rel;  // an existing directory we created entries in
    timespec atime, mtime;
  };
  std::string m_root;
  std::vector<std::string> m_created;
  std::vector<NodeKind> m_kinds;
  std::vector<Touched> m_touched;
};

}  // namespace strata::run
