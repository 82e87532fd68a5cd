#include "fs/tree_capture.hpp"

#include <algorithm>

#include "fs/walker.hpp"
#include "util/strings.hpp"

namespace strata::fs {
namespace {

bool listed(const std::vector<std::string>& list, std::string_view path) {
  for (const std::string& p : list) {
    if (p.size() == path.size() && p == path) return true;
  }
  return false;
}

}  // namespace

Result<std::string> normalize_image_path(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) {
    return fail(ErrorKind::invalid_argument, "path contains a NUL byte");
  }
  auto parts = util::path_components(path);
  if (std::find(parts.begin(), parts.end(), "..") != parts.end()) {
    return fail(ErrorKind::invalid_argument, "path '" + std::string(path) + "' contains '..'");
  }
  std::string out = util::join_components(parts);
  if (out.empty()) {
    return fail(ErrorKind::invalid_argument, "path '" + std::string(path) + "' names the root itself");
  }
  return out;
}

Result<CaptureRules> normalize_rules(CaptureRules rules) {
  for (auto* list : {&rules.opaque, &rules.contents_only, &rules.cross_mounts}) {
    for (std::string& p : *list) p = TRY_CTX(normalize_image_path(p), "snapshot rule");
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  return rules;
}

Result<TreeState> capture_tree(const std::string& root, const CaptureRules& rules, const TreeState* previous) {
  TreeState state;
  if (previous != nullptr) {
    std::size_t n = previous->size();
    state.reserve(n + n / 8 + 64, (n + n / 8 + 64) * 48);
  }
  bool order_ok = true;
  WalkOptions options;
  options.one_filesystem = false;  // decided here, per entry, so that cross_mounts can override
  auto on_entry = [&](const WalkEntry& e) -> WalkAction {
    if (listed(rules.opaque, e.path)) return WalkAction::skip_subtree;
    if (e.mount_point && rules.one_filesystem && !listed(rules.cross_mounts, e.path)) {
      if (previous != nullptr) {
        if (auto i = previous->find(e.path)) {
          std::size_t end = previous->subtree_end(*i);
          for (std::size_t k = *i; k < end; ++k) order_ok = state.append(previous->path(k), previous->meta(k)) && order_ok;
        }
      }
      return WalkAction::skip_subtree;
    }
    order_ok = state.append(e.path, FileMeta::from_stat(e.st)) && order_ok;
    if (listed(rules.contents_only, e.path)) return WalkAction::skip_subtree;
    return WalkAction::proceed;
  };
  TRY(walk(root, options, on_entry));
  if (!order_ok) {
    return fail(ErrorKind::internal, "walk of " + root + " did not produce paths in sorted order");
  }
  return state;
}

}  // namespace strata::fs
