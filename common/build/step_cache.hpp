// The build engine's side of the layer cache (docs/caching.md, "How the build engine calls it"):
// what goes into a step's cache key besides what StageRunner already holds, and where a stage's
// key chain starts.
//
//   - origin: FROM an image → its platform manifest digest; FROM an earlier stage → that stage's
//     final key; FROM scratch → scratch. A base image without a known manifest digest cannot be
//     keyed: the stage is built without the cache (nullopt).
//   - RUN: the instruction as written plus its heredoc bodies (the shell expands variables at run
//     time; the variables it sees are hashed separately), and per `--mount=type=bind` the digest
//     of the mounted files (fs::hash_tree_entries over the source, not mtimes).
//   - COPY/ADD: the expanded sources, destination and flags, plus CopyPlan::fingerprint().
//
// Pure helpers except bind_mount_inputs(), which reads the mounted files. Thread safety: reentrant.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "build/image_state.hpp"
#include "cache/cache_key.hpp"
#include "dockerfile/instructions.hpp"
#include "dockerfile/stages.hpp"
#include "run/run.hpp"
#include "util/result.hpp"

namespace strata::build::detail {

// The key chain a stage starts with. stage_keys holds the final key of every stage built so far
// ("" when that stage was built without the cache). nullopt: this stage cannot be keyed.
std::optional<cache::KeyChain> start_key_chain(const dockerfile::StageNode& node, const ImageState& base,
                                               const std::vector<std::string>& stage_keys,
                                               const std::string& platform, const cache::KeyOptions& options);

// The RUN instruction as hashed: the logical line plus the heredoc bodies it feeds.
std::string run_key_text(const dockerfile::Instruction& instr, const dockerfile::RunInstr& run);

// Digests of the sources of the bind mounts among `mounts` (source = host path, already resolved),
// by target. Errors: those of fs::hash_tree_entries (io, not_found).
Result<std::vector<cache::MountInput>> bind_mount_inputs(const std::vector<run::MountSpec>& mounts);

// The COPY/ADD instruction as hashed: keyword, --from, expanded sources, destination and flags.
std::string copy_key_text(const dockerfile::CopyInstr& expanded, const std::string& from);

}  // namespace strata::build::detail
