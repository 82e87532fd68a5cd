// COPY and ADD: what the build engine calls for each instruction, in two steps.
//
//   1. plan_copy() resolves every source without writing anything to the image: globs, symlinks,
//      .dockerignore, --exclude, --parents, heredoc bodies, URL downloads (to a temp file) and git
//      clones (to a temp dir). The CopyPlan lists every object that will be created, with its final
//      metadata (mode after --chmod, owner after --chown). fingerprint() hashes that list (content
//      hashed lazily and streaming) for the step's cache key.
//   2. execute_copy() writes the plan into the build root: destination resolved inside the root
//      (symlinks in the image never lead outside), existing files replaced, directories merged.
//
// The rules (BuildKit's dockerfile2llb + fsutil copy, with deliberate choices) are in
// docs/copy.md. Errors name the source as written; the engine prefixes "Dockerfile:LINE".
//
// Ownership: a CopyPlan owns its temporary files (downloads, clones), removed when it is
// destroyed, and keeps the source roots open. Thread safety: a plan may be fingerprinted and
// executed from one thread at a time; distinct plans are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "build/context.hpp"
#include "build/copy_mode.hpp"
#include "digest/digest.hpp"
#include "dockerfile/instructions.hpp"
#include "fs/file_meta.hpp"
#include "util/result.hpp"

namespace strata::transport {
class Transport;
}

namespace strata::build {

struct InlineSource {  // a COPY <<EOF heredoc: file `name`, body already expanded
  std::string name;
  std::string content;
};

// One COPY/ADD with every word already expanded by the engine.
struct CopyRequest {
  bool is_add = false;
  std::vector<std::string> sources;         // context/stage paths, globs, URLs (ADD), git URLs (ADD)
  std::vector<InlineSource> inline_sources;  // heredocs
  std::string destination;                  // as written (trailing '/' matters)
  std::string workdir = "/";                // the stage's WORKDIR, for a relative destination
  std::string chown;                        // "" = root
  std::optional<dockerfile::Chmod> chmod;
  std::vector<std::string> excludes;
  bool parents = false;
  bool link = false;          // --link: same file result for us
  bool keep_git_dir = false;  // ADD --keep-git-dir
  std::string checksum;       // ADD --checksum=sha256:...

  // From a parsed instruction whose words the engine has expanded.
  static CopyRequest from_instruction(const dockerfile::CopyInstr& instr, std::string workdir);
};

struct CopyEnvironment {
  const SourceRoot* source = nullptr;  // the context, or the --from root
  std::string image_root;              // the build root (for --chown names and the destination)
  transport::Transport* transport = nullptr;  // ADD <url>; nullptr: URLs are refused
  std::string temp_dir;                // for downloads/clones; "" = $TMPDIR or /tmp
  std::string git_binary = "git";
  // COPY --from: without --chown, entries keep the source's uid/gid (BuildKit, buildah, kaniko);
  // from the context they are 0:0.
  bool keep_source_owners = false;
};

// One object to create. Paths are relative to the item's target ("" = the target itself).
struct CopyEntry {
  std::string rel;
  fs::FileType type = fs::FileType::regular;
  std::uint32_t mode = 0;  // permission bits after --chmod (07777)
  Owner owner;             // after --chown
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t atime_ns = 0;
  std::uint64_t rdev = 0;
  std::string link_target;   // symlinks
  std::int64_t hardlink_of = -1;  // index (in the same item) of the first name of this inode
  mutable std::optional<digest::Digest> content;  // regular files: computed lazily
};

enum class ItemKind {
  tree,     // a file, directory or (inner) symlink of a source root
  inline_file,  // heredoc body
  archive,  // ADD of a local archive: extracted into the destination
};

struct CopyItem {
  ItemKind kind = ItemKind::tree;
  std::string display;     // the source as written
  std::string source_rel;  // resolved path in the item's root
  std::string name;        // file name used when the destination is a directory
  std::string parents_rel; // --parents: path kept below the destination ("" otherwise)
  bool is_dir = false;     // a directory: its contents are copied
  std::size_t root_index = 0;  // which root of the plan
  std::vector<CopyEntry> entries;
  std::vector<CopyEntry> parent_dirs;  // --parents: metadata for the kept parent directories
  std::string inline_content;
};

struct CopyStats {
  std::uint64_t files = 0;
  std::uint64_t dirs = 0;
  std::uint64_t links = 0;
  std::uint64_t bytes = 0;
};

class CopyPlan {
 public:
  const std::vector<CopyItem>& items() const { return m_items; }
  const std::string& destination() const { return m_dest; }  // clean, relative to the build root
  bool destination_is_dir() const { return m_dest_is_dir; }
  const Owner& owner() const { return m_owner; }
  std::uint64_t total_bytes() const;
  std::size_t total_entries() const;

  // sha256 over the plan: destination, flags and, per entry, path, type, mode, owner, size,
  // content digest, link target. Content is hashed on first call (streaming, one file at a
  // time). Errors: io when a source changed or vanished.
  Result<digest::Digest> fingerprint() const;

 public:
  struct Roots;  // private to the module (copy_internal.hpp)

 private:
  friend class CopyPlanner;
  friend Result<CopyStats> execute_copy(const CopyPlan& plan, const std::string& build_root);
  std::vector<CopyItem> m_items;
  std::string m_dest;
  bool m_dest_is_dir = false;
  Owner m_owner;
  std::string m_header;  // request fields for the fingerprint
  std::shared_ptr<Roots> m_roots;
};

// Resolves a request. Errors: not_found ("COPY failed: \"/x\": not found" style, naming the
// source), invalid_argument for bad flags/patterns/URLs for COPY, corrupt for a --checksum
// mismatch (naming both digests), network/... for downloads, unsupported when git is missing.
Result<CopyPlan> plan_copy(const CopyRequest& request, const CopyEnvironment& env);

// Writes a plan into `build_root`. Errors: io/denied/no_space, invalid_argument when a file
// would replace a directory (or the reverse, for a directory's contents).
Result<CopyStats> execute_copy(const CopyPlan& plan, const std::string& build_root);

}  // namespace strata::build
