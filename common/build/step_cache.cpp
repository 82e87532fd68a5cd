#include "build/step_cache.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "fs/tree_hash.hpp"

namespace strata::build::detail {

namespace df = dockerfile;

std::optional<cache::KeyChain> start_key_chain(const df::StageNode& node, const ImageState& base,
                                               const std::vector<std::string>& stage_keys,
                                               const std::string& platform, const cache::KeyOptions& options) {
  if (node.scratch) return cache::KeyChain::from_scratch(platform, options);
  if (node.base_stage) {
    if (*node.base_stage >= stage_keys.size() || stage_keys[*node.base_stage].empty()) return std::nullopt;
    return cache::KeyChain::from_stage(platform, stage_keys[*node.base_stage], options);
  }
  if (!base.base_manifest) return std::nullopt;
  return cache::KeyChain::from_image(platform, *base.base_manifest, options);
}

std::string run_key_text(const df::Instruction& instr, const df::RunInstr& run) {
  std::string text = instr.original;
  for (const auto& h : run.command.heredocs) {
    text += "\n<<" + h.name + (h.chomp ? " chomp" : "") + "\n" + h.content;
  }
  return text;
}

namespace {

Result<digest::Digest> hash_source(const std::string& source) {
  struct stat st {};
  if (::lstat(source.c_str(), &st) != 0) return fail_errno("--mount source " + source, errno);
  if (!S_ISDIR(st.st_mode)) {
    auto slash = source.find_last_of('/');
    std::string dir = slash == std::string::npos || slash == 0 ? "/" : source.substr(0, slash);
    return fs::hash_tree_entries(dir, {source.substr(slash == std::string::npos ? 0 : slash + 1)});
  }
  // A directory: its entries (each followed by its descendants), sorted.
  std::vector<std::string> names;
  DIR* d = ::opendir(source.c_str());
  if (!d) return fail_errno("--mount source " + source, errno);
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return fs::hash_tree_entries(source, names);
}

}  // namespace

Result<std::vector<cache::MountInput>> bind_mount_inputs(const std::vector<run::MountSpec>& mounts) {
  std::vector<cache::MountInput> out;
  for (const auto& m : mounts) {
    if (m.kind != run::MountKind::bind) continue;
    out.push_back({m.target, TRY(hash_source(m.source))});
  }
  return out;
}

std::string copy_key_text(const df::CopyInstr& expanded, const std::string& from) {
  std::string text = expanded.is_add ? "ADD" : "COPY";
  if (!from.empty()) text += " --from=" + from;
  if (!expanded.chown.empty()) text += " --chown=" + expanded.chown;
  if (expanded.chmod) text += " --chmod=" + expanded.chmod->text;
  if (expanded.link) text += " --link";
  if (expanded.parents) text += " --parents";
  if (expanded.keep_git_dir) text += " --keep-git-dir";
  if (!expanded.checksum.empty()) text += " --checksum=" + expanded.checksum;
  for (const auto& e : expanded.excludes) text += " --exclude=" + e;
  for (const auto& src : expanded.sources) {
    text += " " + src.path;
    if (src.inline_content) text += "\n" + src.content + "\n";
  }
  text += " " + expanded.destination;
  return text;
}

}  // namespace strata::build::detail
