// Capturing a TreeState from a directory tree under the snapshot's exclusion rules.
//
// Rules, all given as paths inside the image ("/var/run" or "var/run"), compared component-wise
// and never through symlinks (the walk does not follow them):
// - opaque: the entry and its subtree are never recorded (--ignore-path, /var/run, the executor's
//   work dir, files the executor bind-mounts over such as /etc/resolv.conf);
// - contents_only: the directory itself is recorded, nothing below it (/proc, /sys, /dev);
// - mount points (st_dev differs from the root's) are not descended into unless listed in
//   cross_mounts. What a mount hides cannot be seen, so the previous state's record of the entry
//   and of its whole subtree is carried over unchanged: mounting something in a RUN step never
//   shows up as a deletion or a change.
//
// Thread safety: capture_tree() is reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fs/tree_state.hpp"
#include "util/result.hpp"

namespace strata::fs {

struct CaptureRules {
  std::vector<std::string> opaque;
  std::vector<std::string> contents_only;
  std::vector<std::string> cross_mounts;
  bool one_filesystem = true;
};

// "/var/run/" → "var/run", "./a//b" → "a/b". invalid_argument for "..", NUL bytes, or a path
// naming the root itself.
Result<std::string> normalize_image_path(std::string_view path);

// Normalizes every path of every list (errors name the offending path).
Result<CaptureRules> normalize_rules(CaptureRules rules);

// Walks root and records every entry not excluded by rules (already normalized). previous, if
// given, supplies what mount points hide.
Result<TreeState> capture_tree(const std::string& root, const CaptureRules& rules,
                               const TreeState* previous = nullptr);

}  // namespace strata::fs
