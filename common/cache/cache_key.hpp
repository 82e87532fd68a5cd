// Layer-cache keys: what a layer-producing build step is identified by (recipe: cache_key.cpp and
// docs/caching.md). A key is the lowercase hex of a SHA-256 over a versioned, length-prefixed
// record of the step's inputs, chained to the key of the step before it, so two builds share a
// key for a step exactly when every input of that step and of every step before it is the same.
//
// Use: one KeyChain per stage, started from the base (image manifest digest, parent stage's final
// key, or scratch); every instruction, metadata ones included, goes through next(), in order.
//
// Thread safety: plain values; a KeyChain is used by one thread at a time.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "digest/digest.hpp"
#include "dockerfile/variables.hpp"

namespace strata::cache {

// Hashed in first: a key computed with another recipe never equals one computed with this one.
// Bump whenever anything hashed below changes meaning or encoding.
inline constexpr int k_recipe_version = 1;

enum class StepKind { run, copy, add, metadata };
std::string_view to_string(StepKind kind);

// A `RUN --mount=type=bind` source: the caller hashes the mounted files (fs::hash_tree_entries).
struct MountInput {
  std::string target;      // mount point in the container, as expanded
  digest::Digest content;  // hash of the mounted source files
};

// Everything a step's key depends on besides its predecessors. Strings are as the step will
// execute: after variable expansion.
struct StepInputs {
  StepKind kind = StepKind::run;
  std::string instruction;  // expanded, e.g. "RUN make -j2 VERSION=1.4" (flags included)
  // The step as written in the Dockerfile, for humans and for matching entries of "the same
  // step" when a miss is explained. Not hashed (instruction is).
  std::string display;
  // StageVariables::visible(): the ARG and ENV values the step can see.
  std::vector<dockerfile::VisibleVariable> variables;
  // COPY/ADD: CopyPlan::fingerprint() — exactly the files copied (after .dockerignore, globs,
  // --exclude, --from) with content, mode, owner, link targets; no mtimes.
  std::optional<digest::Digest> files;
  // ADD <url>: per URL, "url <checksum or validator>", e.g. "https://x/a.tgz sha256:..",
  // "https://x/b etag=\"abc\"" or "https://x/c last-modified=Tue, 01 ..".
  std::vector<std::string> remote_validators;
  std::vector<MountInput> mounts;  // RUN --mount=type=bind sources
};

struct KeyOptions {
  std::set<std::string> excluded_args;  // --cache-key-exclude-arg: ARGs left out (ENV stays)
};

// Component name → short fingerprint of what was hashed for it; stored in entries so a miss can
// be explained ("var:VERSION", "files", "parent" differ). Values are digests, never raw values
// (build args may be secrets), except the recipe version and the platform.
using InputsSummary = std::map<std::string, std::string>;

struct StepKey {
  std::string key;  // 64 lowercase hex characters
  InputsSummary inputs;
  std::string display;
  StepKind kind = StepKind::run;
  std::string platform;
};

// Computes one key. `parent` is the previous step's key (or the chain's origin for the first
// step). Pure; never fails.
StepKey compute_key(std::string_view platform, std::string_view parent, const StepInputs& step,
                    const KeyOptions& options = {});

// The names of the components whose fingerprints differ between two summaries (present in only
// one counts as differing), sorted.
std::vector<std::string> differing_inputs(const InputsSummary& a, const InputsSummary& b);

class KeyChain {
 public:
  // A stage FROM an image: the platform-specific manifest digest (not the tag, not the index).
  static KeyChain from_image(std::string platform, const digest::Digest& manifest, KeyOptions options = {});
  // A stage FROM an earlier stage: that stage's final key (KeyChain::current()).
  static KeyChain from_stage(std::string platform, std::string_view stage_key, KeyOptions options = {});
  static KeyChain from_scratch(std::string platform, KeyOptions options = {});

  // Computes the key of the next step and advances the chain to it.
  StepKey next(const StepInputs& step);
  // The last key computed (the origin before the first step): a stage's final key.
  const std::string& current() const { return m_current; }
  const std::string& platform() const { return m_platform; }

 private:
  KeyChain(std::string platform, std::string origin, KeyOptions options);
  std::string m_platform;
  std::string m_current;
  KeyOptions m_options;
};

}  // namespace strata::cache
