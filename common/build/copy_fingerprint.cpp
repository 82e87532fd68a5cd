// The fingerprint of a CopyPlan, the COPY/ADD part of a step's cache key.
//
// A sha256 over a line-oriented text: the request header (command, destination with its
// directory-ness, --chmod text, resolved owner, --parents, --exclude patterns), then for every
// item "item <kind> <name> <parents_rel> <is_dir>" and for every entry
// "<rel>\0<type>\0<mode octal>\0<uid>:<gid>\0<size>\0<content digest>\0<link target>\0<hardlink>".
// Mtimes are left out, as BuildKit's content hash leaves them out: touching a file does not
// invalidate the cache, changing its bytes or mode does. Content is hashed streaming, once.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "build/copy.hpp"
#include "build/copy_internal.hpp"
#include "build/copy_path.hpp"

namespace strata::build {
namespace {

Result<digest::Digest> hash_fd(int fd, const std::string& what) {
  digest::Hasher hasher;
  std::vector<char> buf(256 * 1024);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + what, errno);
    }
    if (n == 0) break;
    hasher.update(buf.data(), static_cast<std::size_t>(n));
  }
  return hasher.finish();
}

const char* kind_name(ItemKind k) {
  switch (k) {
    case ItemKind::tree: return "tree";
    case ItemKind::inline_file: return "inline";
    case ItemKind::archive: return "archive";
  }
  return "?";
}

}  // namespace

Result<digest::Digest> CopyPlan::fingerprint() const {
  digest::Hasher out;
  out.update(m_header);
  for (const auto& item : m_items) {
    std::string line = std::string("item ") + kind_name(item.kind) + " " + item.name + " " + item.parents_rel + " " +
                       (item.is_dir ? "dir" : "file") + "\n";
    out.update(line);
    for (const auto& p : item.parent_dirs) {
      char mode[16];
      std::snprintf(mode, sizeof mode, "%o", p.mode);
      out.update("parent " + p.rel + " " + mode + "\n");
    }
    for (const auto& e : item.entries) {
      if (e.type == fs::FileType::regular && !e.content && e.hardlink_of < 0) {
        const SourceRoot& root = m_roots->roots[item.root_index];
        std::string rel = join_rel(item.source_rel, e.rel);
        int fd = root.dir().open_raw(rel, O_RDONLY | O_NOFOLLOW);
        if (fd < 0) return fail_errno("hash \"/" + rel + "\"", -fd);
        util::Fd file(fd);
        e.content = TRY(hash_fd(file.get(), "\"/" + rel + "\""));
      }
      char mode[16];
      std::snprintf(mode, sizeof mode, "%o", e.mode);
      std::string rec = e.rel;
      rec += '\0';
      rec += fs::to_string(e.type);
      rec += '\0';
      rec += mode;
      rec += '\0';
      rec += std::to_string(e.owner.uid) + ":" + std::to_string(e.owner.gid);
      rec += '\0';
      rec += std::to_string(e.size);
      rec += '\0';
      if (e.content) rec += e.content->str();
      rec += '\0';
      rec += e.link_target;
      rec += '\0';
      rec += std::to_string(e.hardlink_of);
      rec += '\n';
      out.update(rec);
    }
  }
  return out.finish();
}

}  // namespace strata::build
