#include "fs/tree_state.hpp"

#include <algorithm>

#include "fs/walker.hpp"

namespace strata::fs {

bool TreeState::append(std::string_view path, const FileMeta& meta) {
  if (!m_entries.empty() && !path_less(this->path(m_entries.size() - 1), path)) return false;
  Entry e{static_cast<std::uint32_t>(m_paths.size()), static_cast<std::uint32_t>(path.size()), meta};
  m_paths.append(path);
  m_entries.push_back(e);
  return true;
}

std::optional<std::size_t> TreeState::find(std::string_view wanted) const {
  std::size_t lo = 0, hi = m_entries.size();
  while (lo < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    int c = path_compare(path(mid), wanted);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return std::nullopt;
}

std::size_t TreeState::subtree_end(std::size_t i) const {
  std::string_view top = path(i);
  std::size_t j = i + 1;
  while (j < m_entries.size() && path_is_under(path(j), top)) ++j;
  return j;
}

void TreeState::reserve(std::size_t entries, std::size_t path_bytes) {
  m_entries.reserve(entries);
  m_paths.reserve(path_bytes);
}

std::string_view to_string(FileType type) {
  switch (type) {
    case FileType::regular: return "file";
    case FileType::directory: return "directory";
    case FileType::symlink: return "symlink";
    case FileType::char_device: return "char device";
    case FileType::block_device: return "block device";
    case FileType::fifo: return "fifo";
    case FileType::socket: return "socket";
    case FileType::unknown: break;
  }
  return "unknown";
}

}  // namespace strata::fs
