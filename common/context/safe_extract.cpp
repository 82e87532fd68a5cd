#include "context/safe_extract.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "archive/compression.hpp"
#include "archive/extractor.hpp"
#include "archive/root_dir.hpp"
#include "archive/stream.hpp"
#include "archive/tar_reader.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::context {
namespace {

// Lexically resolves `target` relative to the directory `base` (both relative,
// "/"-separated). Returns false when a ".." would climb above the root.
bool stays_inside(std::string_view base, std::string_view target) {
  std::vector<std::string_view> parts;
  auto push_all = [&](std::string_view path) {
    while (!path.empty()) {
      std::size_t slash = path.find('/');
      std::string_view part = path.substr(0, slash);
      path = slash == std::string_view::npos ? std::string_view{}
                                             : path.substr(slash + 1);
      if (part.empty() || part == ".")
        continue;
      if (part == "..") {
        if (parts.empty())
          return false;
        parts.pop_back();
      } else {
        parts.push_back(part);
      }
    }
    return true;
  };
  return push_all(base) && push_all(target);
}

Result<util::Fd> open_file(const std::string &path, const std::string &what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail_errno(what + ": open " + path, errno);
  return util::Fd(fd);
}

Result<ExtractSummary> validate(const std::string &path,
                                const std::string &what) {
  util::Fd fd = TRY(open_file(path, what));
  archive::FdSource file(fd.get(), path);
  auto plain = TRY_CTX(archive::open_decompressed(file), what);
  auto reader = archive::TarReader::open(*plain);
  if (!reader)
    return fail(ErrorKind::corrupt, what + ": not a tar archive (" +
                                        reader.error().message() + ")");
  ExtractSummary summary;
  for (;;) {
    auto next = (*reader)->next();
    if (!next) {
      if (summary.entries == 0)
        return fail(ErrorKind::corrupt, what + ": not a tar archive (" +
                                            next.error().message() + ")");
      return fail(next.error().with_context(what));
    }
    if (!*next)
      break;
    const archive::TarEntry &e = **next;
    ++summary.entries;
    summary.bytes += e.size;
    std::string why =
        unsafe_entry_reason(e.path, e.type == archive::EntryType::symlink,
                            e.type == archive::EntryType::hardlink,
                            e.type == archive::EntryType::char_device ||
                                e.type == archive::EntryType::block_device,
                            e.link_target);
    if (!why.empty())
      return fail(ErrorKind::corrupt,
                  what + ": unsafe archive entry \"" + e.path + "\": " + why);
  }
  if (summary.entries == 0)
    return fail(ErrorKind::corrupt, what + ": not a tar archive (no entries)");
  return summary;
}

} // namespace

std::string unsafe_entry_reason(std::string_view name, bool is_symlink,
                                bool is_hardlink, bool is_device,
                                std::string_view link_target) {
  if (name.starts_with("/"))
    return "absolute path";
  if (!stays_inside("", name))
    return "path climbs out of the context with \"..\"";
  if (is_device)
    return "device node";
  if (is_symlink) {
    if (link_target.starts_with("/"))
      return "symlink to an absolute path (" + std::string(link_target) + ")";
    std::string_view parent = name;
    while (!parent.empty() && parent.back() == '/')
      parent.remove_suffix(1);
    std::size_t slash = parent.rfind('/');
    parent = slash == std::string_view::npos ? std::string_view{}
                                             : parent.substr(0, slash);
    if (!stays_inside(parent, link_target))
      return "symlink pointing out of the context (" +
             std::string(link_target) + ")";
  }
  if (is_hardlink &&
      (link_target.starts_with("/") || !stays_inside("", link_target)))
    return "hardlink to outside the context (" + std::string(link_target) + ")";
  return {};
}

Result<ExtractSummary> extract_context_archive(const std::string &path,
                                               const std::string &dest,
                                               const std::string &what) {
  ExtractSummary summary = TRY(validate(path, what));
  util::Fd fd = TRY(open_file(path, what));
  archive::FdSource file(fd.get(), path);
  archive::ExtractOptions options;
  auto stats = TRY_CTX(archive::apply_layer(file, dest, options), what);
  log::info("unpacked " + what + ": " + std::to_string(summary.entries) +
            " entries, " + util::human_size(stats.uncompressed_size) + " (" +
            std::string(archive::to_string(stats.compression)) + ")");
  return summary;
}

} // namespace strata::context
