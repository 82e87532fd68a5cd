// Change detection between two TreeStates: one linear merge of two path-sorted tables, then two
// small passes over the (usually short) change list for hard-link groups and parent directories.
//
// Per-mode rules (docs/snapshots.md has the reasoning):
//   time: a non-directory whose mtime moved is modified.
//   redo: size or mtime (non-directories) → modified; mode/uid/gid → metadata.
//   full: inode, size, mtime or device number (non-directories) → modified; mode/uid/gid, or a
//         directory's inode → metadata; when only ctime moved, the entry's evidence (xattrs and
//         content hash) is read and compared with what an earlier snapshot read, if any: unknown
//         or different evidence is reported (content writes hidden by a restored mtime, xattr
//         changes), equal evidence with a new link count is metadata, otherwise nothing.
// Directory sizes and mtimes are not compared in any mode (they move whenever a child is added
// or removed; the child itself is the change), as docker does.
#include "fs/snapshot.hpp"

#include <time.h>

#include <algorithm>
#include <climits>
#include <unordered_set>

#include "fs/walker.hpp"

namespace strata::fs {
namespace {

enum class Verdict { same, modified, metadata, confirm };

Verdict classify(const FileMeta& o, const FileMeta& n, SnapshotMode mode) {
  const bool dir = n.is_dir();
  const bool owner_or_mode = o.mode != n.mode || o.uid != n.uid || o.gid != n.gid;
  switch (mode) {
    case SnapshotMode::time:
      return !dir && o.mtime_ns != n.mtime_ns ? Verdict::modified : Verdict::same;
    case SnapshotMode::redo:
      if (!dir && (o.size != n.size || o.mtime_ns != n.mtime_ns)) return Verdict::modified;
      return owner_or_mode ? Verdict::metadata : Verdict::same;
    case SnapshotMode::full:
      if (!dir && (o.ino != n.ino || o.size != n.size || o.mtime_ns != n.mtime_ns || o.rdev != n.rdev)) {
        return Verdict::modified;
      }
      if (owner_or_mode || (dir && o.ino != n.ino)) return Verdict::metadata;
      return o.ctime_ns != n.ctime_ns ? Verdict::confirm : Verdict::same;
  }
  return Verdict::modified;
}

struct InodeKey {
  std::uint64_t dev;
  std::uint64_t ino;
  friend bool operator==(const InodeKey&, const InodeKey&) = default;
};
struct InodeKeyHash {
  std::size_t operator()(const InodeKey& k) const noexcept { return std::hash<std::uint64_t>()(k.ino * 1000003u ^ k.dev); }
};

void link_hardlink_groups(const TreeState& current, std::vector<Change>& changes,
                          std::unordered_set<std::string>& present) {
  std::unordered_map<InodeKey, std::vector<std::size_t>, InodeKeyHash> groups;
  for (const Change& c : changes) {
    if (c.kind != ChangeKind::deleted && c.meta.is_regular() && c.meta.nlink > 1) groups[{c.meta.dev, c.meta.ino}];
  }
  if (groups.empty()) return;
  for (std::size_t j = 0; j < current.size(); ++j) {
    const FileMeta& m = current.meta(j);
    if (!m.is_regular() || m.nlink < 2) continue;
    auto it = groups.find({m.dev, m.ino});
    if (it != groups.end()) it->second.push_back(j);
  }
  std::unordered_map<std::string, std::string> link_to;
  for (auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    std::string leader(current.path(members.front()));
    for (std::size_t j : members) {
      std::string path(current.path(j));
      if (present.insert(path).second) changes.push_back(Change{path, ChangeKind::metadata, current.meta(j), {}});
      if (j != members.front()) link_to.emplace(std::move(path), leader);
    }
  }
  for (Change& c : changes) {
    auto it = link_to.find(c.path);
    if (it != link_to.end()) c.hardlink_to = it->second;
  }
}

void add_parents(const TreeState& current, std::vector<Change>& changes, std::unordered_set<std::string>& present) {
  const std::size_t n = changes.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::string path = changes[i].path;
    for (;;) {
      std::size_t slash = path.rfind('/');
      if (slash == std::string::npos) break;
      path.resize(slash);
      if (present.count(path) != 0) break;
      present.insert(path);
      if (auto idx = current.find(path)) changes.push_back(Change{path, ChangeKind::parent, current.meta(*idx), {}});
    }
  }
}

}  // namespace

Result<SnapshotMode> parse_snapshot_mode(std::string_view text) {
  if (text == "full") return SnapshotMode::full;
  if (text == "redo") return SnapshotMode::redo;
  if (text == "time") return SnapshotMode::time;
  return fail(ErrorKind::invalid_argument,
              "invalid snapshot mode '" + std::string(text.substr(0, 40)) + "' (want full, redo or time)");
}

std::string_view to_string(SnapshotMode mode) {
  switch (mode) {
    case SnapshotMode::full: return "full";
    case SnapshotMode::redo: return "redo";
    case SnapshotMode::time: return "time";
  }
  return "full";
}

std::string_view to_string(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::added: return "added";
    case ChangeKind::modified: return "modified";
    case ChangeKind::metadata: return "metadata";
    case ChangeKind::type_changed: return "type_changed";
    case ChangeKind::deleted: return "deleted";
    case ChangeKind::parent: return "parent";
  }
  return "changed";
}

Result<std::vector<Change>> diff_states(const std::string& root, const TreeState& previous, const TreeState& current,
                                        SnapshotMode mode, EvidenceMap* evidence,
                                        std::int64_t racy_since_ns, SnapshotStats* stats) {
  std::vector<Change> changes;
  auto forget = [&](std::string_view path) {
    if (evidence == nullptr) return;
    if (auto it = evidence->find(path); it != evidence->end()) evidence->erase(it);
  };
  auto emit = [&](std::string_view path, ChangeKind kind, const FileMeta& meta) {
    changes.push_back(Change{std::string(path), kind, meta, {}});
  };
  std::size_t i = 0, j = 0;
  while (i < previous.size() || j < current.size()) {
    int c = i == previous.size() ? 1 : j == current.size() ? -1 : path_compare(previous.path(i), current.path(j));
    if (c < 0) {
      emit(previous.path(i), ChangeKind::deleted, previous.meta(i));
      forget(previous.path(i));
      i = previous.meta(i).is_dir() ? previous.subtree_end(i) : i + 1;
      continue;
    }
    if (c > 0) {
      emit(current.path(j), ChangeKind::added, current.meta(j));
      forget(current.path(j));
      ++j;
      continue;
    }
    const FileMeta& o = previous.meta(i);
    const FileMeta& n = current.meta(j);
    std::string_view path = current.path(j);
    if (o.type() != n.type()) {
      emit(path, ChangeKind::type_changed, n);
      forget(path);
      // The old directory's children are replaced wholesale by the new entry.
      i = o.is_dir() ? previous.subtree_end(i) : i + 1;
      ++j;
      continue;
    }
    Verdict verdict = classify(o, n, mode);
    if (verdict == Verdict::same && mode == SnapshotMode::full && o.ctime_ns >= racy_since_ns) verdict = Verdict::confirm;
    switch (verdict) {
      case Verdict::same: break;
      case Verdict::modified: emit(path, ChangeKind::modified, n); forget(path); break;
      case Verdict::metadata: emit(path, ChangeKind::metadata, n); forget(path); break;
      case Verdict::confirm: {
        ChangeKind unknown = n.is_regular() ? ChangeKind::modified : ChangeKind::metadata;
        if (evidence == nullptr) {
          emit(path, unknown, n);
          break;
        }
        std::string absolute = root + "/" + std::string(path);
        auto read = read_evidence(absolute, n, stats != nullptr ? &stats->bytes_hashed : nullptr);
        if (stats != nullptr) ++stats->confirmations;
        if (!read) {
          // Vanished since the walk, or hidden under a mount point whose old record was carried
          // over: nothing to write now; if it is really gone the next snapshot says so.
          if (read.error().kind() != ErrorKind::not_found) return fail(read.error().with_context("snapshot"));
          break;
        }
        auto it = evidence->find(path);
        bool known_same = it != evidence->end() && it->second == *read;
        if (it != evidence->end()) it->second = std::move(*read);
        else evidence->emplace(std::string(path), std::move(*read));
        if (!known_same) emit(path, unknown, n);
        // A directory's link count follows its subdirectories, which are reported themselves.
        else if (o.nlink != n.nlink && !n.is_dir()) emit(path, ChangeKind::metadata, n);
        break;
      }
    }
    ++i;
    ++j;
  }

  if (!changes.empty()) {
    std::unordered_set<std::string> present;
    present.reserve(changes.size() * 2);
    for (const Change& ch : changes) present.insert(ch.path);
    const std::size_t before = changes.size();
    link_hardlink_groups(current, changes, present);
    add_parents(current, changes, present);
    if (changes.size() != before) {
      std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) { return path_less(a.path, b.path); });
    }
  }
  if (stats != nullptr) stats->changes = changes.size();
  return changes;
}

namespace {

std::int64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Full mode: reads the evidence of the racy entries of state into evidence and returns the
// racy threshold the next diff must use.
Result<std::int64_t> record_racy_evidence(const std::string& root, const TreeState& state, SnapshotMode mode,
                                          std::int64_t walk_end_ns,
                                          EvidenceMap& evidence,
                                          SnapshotStats& stats) {
  if (mode != SnapshotMode::full) return INT64_MAX;
  const std::int64_t racy_since = walk_end_ns - k_racy_window_ns;
  for (std::size_t i = 0; i < state.size(); ++i) {
    const FileMeta& meta = state.meta(i);
    // Directories always have evidence (their xattrs: one syscall each, ~10% of the entries of
    // an image), so that the ctime bump every added or removed child causes is dismissed
    // instead of reporting the directory as changed.
    bool wanted = meta.ctime_ns >= racy_since;
    if (!wanted && meta.is_dir()) {
      auto it = evidence.find(state.path(i));
      wanted = it == evidence.end() || it->second.ino != meta.ino;
    }
    if (!wanted) continue;
    std::string path(state.path(i));
    auto read = read_evidence(root + "/" + path, meta, &stats.bytes_hashed);
    ++stats.confirmations;
    if (!read) {
      // Gone already: the next snapshot reports it missing, no evidence needed.
      if (read.error().kind() == ErrorKind::not_found) continue;
      return fail(read.error().with_context("snapshot"));
    }
    evidence[std::move(path)] = std::move(*read);
  }
  return racy_since;
}

}  // namespace

Result<Snapshotter> Snapshotter::create(std::string root, SnapshotOptions options) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  CaptureRules rules;
  rules.opaque = options.ignore_paths;
  rules.opaque.insert(rules.opaque.end(), options.masked_paths.begin(), options.masked_paths.end());
  if (options.ignore_var_run) rules.opaque.push_back("/var/run");
  rules.contents_only = options.contents_ignored;
  rules.cross_mounts = options.cross_mounts;
  rules.one_filesystem = options.one_filesystem;

  Snapshotter s;
  s.m_root = root == "/" ? std::string() : root;  // paths are joined as root + "/" + rel
  s.m_mode = options.mode;
  s.m_rules = TRY(normalize_rules(std::move(rules)));
  auto start = std::chrono::steady_clock::now();
  s.m_state = TRY_CTX(capture_tree(root, s.m_rules), "snapshot baseline of " + root);
  s.m_stats.entries = s.m_state.size();
  s.m_stats.walk_time = std::chrono::steady_clock::now() - start;
  s.m_racy_since_ns = TRY(record_racy_evidence(s.m_root, s.m_state, s.m_mode, now_ns(), s.m_evidence, s.m_stats));
  return s;
}

Result<std::vector<Change>> Snapshotter::snapshot() {
  SnapshotStats stats;
  const std::string walk_root = m_root.empty() ? "/" : m_root;
  auto start = std::chrono::steady_clock::now();
  TreeState current = TRY_CTX(capture_tree(walk_root, m_rules, &m_state), "snapshot of " + walk_root);
  const std::int64_t walk_end_ns = now_ns();
  auto walked = std::chrono::steady_clock::now();
  // Work on a copy: evidence read for the new state must not leak into the old baseline if this
  // snapshot fails (a confirmation against it would then dismiss a real change).
  auto evidence = m_evidence;
  auto changes = TRY(diff_states(m_root, m_state, current, m_mode, &evidence, m_racy_since_ns, &stats));
  std::int64_t racy_since = TRY(record_racy_evidence(m_root, current, m_mode, walk_end_ns, evidence, stats));
  stats.entries = current.size();
  stats.walk_time = walked - start;
  stats.diff_time = std::chrono::steady_clock::now() - walked;
  m_state = std::move(current);
  m_evidence = std::move(evidence);
  m_racy_since_ns = racy_since;
  m_stats = stats;
  return changes;
}

}  // namespace strata::fs
