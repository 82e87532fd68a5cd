// Snapshots: what a build step changed in the build root, as the list of entries a layer must
// hold so that applying it on the previous tree yields the current one. See docs/snapshots.md
// for the algorithm and its costs.
//
// Change list contract (what the layer writer may rely on):
// - sorted by path_less(): a directory comes before its children; paths are relative, no '/'
//   at either end;
// - added: a new entry; an added directory is followed by all its children, also added;
// - modified: content (or what stands for it: inode, size, mtime, device number) changed;
// - metadata: only mode, owner, xattrs or link count changed (the layer still carries the whole
//   entry: tar has no metadata-only record);
// - type_changed: file ↔ directory ↔ symlink...; write the new entry, no whiteout needed (the
//   extractor replaces whatever is there unless both are directories); when a directory became
//   something else its old children are not listed; when something became a directory its new
//   children follow as added;
// - deleted: write a whiteout; a deleted directory is one entry, its old children are not listed;
// - parent: an unchanged directory that is an ancestor of another change, included as docker
//   and buildah do (moby pkg/archive addChanges) so that extraction recreates its mode/owner/
//   times rather than inventing defaults. The root itself is never listed.
// - hardlink_to, when non-empty, names an earlier regular-file entry of the same list with the
//   same inode: write a hard link to it. Every path of a hard-link group that touches a change is
//   listed (unchanged members as metadata), the first one in order carries the content.
// - meta is the entry's lstat() at snapshot time (for deleted: the last state seen).
//
// Thread safety: a Snapshotter is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fs/evidence.hpp"
#include "fs/file_meta.hpp"
#include "fs/tree_capture.hpp"
#include "fs/tree_state.hpp"
#include "util/result.hpp"

namespace strata::fs {

// As kaniko's --snapshot-mode.
enum class SnapshotMode {
  full,  // inode, size, mtime, mode, owner, device, and ctime confirmed by xattrs + content hash
  redo,  // mode, size, mtime, owner
  time,  // mtime only
};
Result<SnapshotMode> parse_snapshot_mode(std::string_view text);
std::string_view to_string(SnapshotMode mode);

struct SnapshotOptions {
  SnapshotMode mode = SnapshotMode::full;
  // --ignore-path (repeatable) and the executor's own work dir: never snapshotted, subtree included.
  std::vector<std::string> ignore_paths;
  // --ignore-var-run (kaniko's default: true).
  bool ignore_var_run = true;
  // Files the executor bind-mounts into the root (/etc/resolv.conf, /etc/hosts, /etc/hostname):
  // their changes are never reported.
  std::vector<std::string> masked_paths;
  // Directories recorded themselves but never their contents.
  std::vector<std::string> contents_ignored = {"/proc", "/sys", "/dev"};
  // Do not descend into other file systems under the root, except cross_mounts.
  bool one_filesystem = true;
  std::vector<std::string> cross_mounts;
};

enum class ChangeKind { added, modified, metadata, type_changed, deleted, parent };
std::string_view to_string(ChangeKind kind);

struct Change {
  std::string path;
  ChangeKind kind;
  FileMeta meta;
  std::string hardlink_to;
};

struct SnapshotStats {
  std::size_t entries = 0;        // entries recorded by the walk
  std::size_t changes = 0;        // entries in the change list
  std::size_t confirmations = 0;  // entries whose evidence (xattrs/content) was read
  std::uint64_t bytes_hashed = 0;
  std::chrono::nanoseconds walk_time{0};
  std::chrono::nanoseconds diff_time{0};
};

class Snapshotter {
 public:
  // Validates the options and records the baseline state of root (one metadata walk).
  // Errors: invalid_argument for a bad path in the options; io/denied/not_found from the walk.
  static Result<Snapshotter> create(std::string root, SnapshotOptions options);

  // Walks root again, returns what changed since the previous snapshot() (or create()), and
  // makes the current state the new baseline. With --single-snapshot the executor simply calls
  // this once after the last step: the diff spans all steps. On error the baseline is unchanged.
  Result<std::vector<Change>> snapshot();

  const TreeState& state() const { return m_state; }
  const SnapshotStats& last_stats() const { return m_stats; }
  const std::string& root() const { return m_root; }
  SnapshotMode mode() const { return m_mode; }

 private:
  Snapshotter() = default;

  std::string m_root;
  SnapshotMode m_mode = SnapshotMode::full;
  CaptureRules m_rules;
  TreeState m_state;
  // Evidence read at earlier snapshots, so that a ctime-only change can be confirmed or dismissed.
  EvidenceMap m_evidence;
  SnapshotStats m_stats;
  std::int64_t m_racy_since_ns = INT64_MAX;
};

// The comparison itself, for callers holding two states (bench programs, tests). evidence may
// be null (then ctime-only changes are always reported in full mode); root is where evidence is
// read from and must hold the tree that `current` describes. In full mode, entries of previous
// whose ctime is >= racy_since_ns were stat'ed within one timestamp tick of their last change
// and are confirmed through evidence even if stat() shows no difference (INT64_MAX: none).
Result<std::vector<Change>> diff_states(const std::string& root, const TreeState& previous,
                                        const TreeState& current, SnapshotMode mode,
                                        EvidenceMap* evidence,
                                        std::int64_t racy_since_ns, SnapshotStats* stats = nullptr);

// File timestamps come from a coarse clock (one scheduler tick, up to 10 ms): two writes within
// one tick leave ctime and mtime equal. Entries changed this close to a walk are "racy" (as in
// git's index) and full mode reads their evidence right after the walk; see docs/snapshots.md.
inline constexpr std::int64_t k_racy_window_ns = 50'000'000;

}  // namespace strata::fs
