// Internal to the build engine: the state shared by the stages of one build and the runner of
// one stage's instructions (stage_runner.cpp).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "build/context.hpp"
#include "build/engine.hpp"
#include "build/metadata.hpp"
#include "cache/cache_key.hpp"
#include "dockerfile/instructions.hpp"
#include "dockerfile/stages.hpp"
#include "dockerfile/variables.hpp"
#include "store/blob_store.hpp"

namespace strata::build::detail {

struct BuildShared {
  const BuildOptions* options = nullptr;
  ImageSource* images = nullptr;
  const dockerfile::Dockerfile* dockerfile = nullptr;
  const dockerfile::StageGraph* graph = nullptr;
  dockerfile::BuildVariables* vars = nullptr;
  std::unique_ptr<store::BlobStore> layers;  // <work_dir>/store
  std::optional<SourceRoot> context;         // opened on first COPY from the context
  std::map<std::size_t, std::string> stage_roots;  // roots kept for COPY --from / mount from=
  std::map<std::string, std::string> image_roots;  // --from images, unpacked once
  std::vector<std::optional<ImageState>> results;  // per stage index
  BuildStats stats;
  int image_counter = 0;
  std::vector<std::string> stage_keys;  // layer cache: final key per stage index ("" = none)
  std::set<std::size_t> keep_roots;     // stages whose root a later stage reads

  std::string now() const;
  Result<const SourceRoot*> context_root();
  // The root of a `--from` value: stage name/index or image reference (unpacked on demand).
  Result<std::string> from_root(const std::string& from);
  archive::ExtractOptions extract_options() const;
};

// Runs one stage whose base state has been unpacked into `root`.
class StageRunner {
 public:
  StageRunner(BuildShared& shared, std::size_t stage_index, std::string root, ImageState state);

  // Runs the ONBUILD triggers of the base config, then the stage's instructions.
  Result<ImageState> run();

  // With the layer cache (chroot builds, not --single-snapshot) the base image is not unpacked
  // before the stage runs: its layers are extracted together with the cache hits, only when a
  // step has to read or change the root (flush_cached_layers), so a fully cached stage that no
  // later stage reads never touches the disk. Otherwise the caller unpacks it first.
  static bool extracts_lazily(const BuildOptions& options, const std::string& root);

 private:
  Result<void> step(const dockerfile::Instruction& instr, std::optional<std::size_t> command_index);
  Result<bool> run_instruction(const dockerfile::RunInstr& run, const dockerfile::Instruction& instr,
                               std::vector<run::MountSpec> mounts, bool cached);
  struct PlannedCopy;
  Result<PlannedCopy> copy_instruction(const dockerfile::CopyInstr& copy, const dockerfile::Instruction& instr,
                                       std::optional<std::size_t> command_index);
  // Layer cache (step_cache.hpp): the key of the next step (nullopt: cache off for this stage);
  // reuse_layer() looks a layer step up and on a hit appends the cached layer and its history
  // entry (true); flush_cached_layers() extracts hit layers not yet in the root and makes the
  // result the snapshot baseline, before anything reads or changes the root.
  std::optional<cache::StepKey> step_key(cache::StepInputs inputs);
  bool caches(const std::optional<cache::StepKey>& key) const;
  Result<bool> reuse_layer(const cache::StepKey& key, std::string created_by);
  void store_layer(const cache::StepKey& key);
  Result<void> flush_cached_layers();
  Result<std::vector<run::MountSpec>> run_mounts(const dockerfile::RunInstr& run, const dockerfile::Instruction& instr);
  // Snapshot after a filesystem step (unless --single-snapshot): true if a layer was added.
  // cached: the step's layer goes into the layer cache (uncompressed with --compressed-caching=false).
  Result<bool> snapshot(const std::vector<std::string>& masked = {}, bool cached = false);
  void add_history(std::string created_by, bool empty_layer);
  Error located(const dockerfile::Instruction& instr, Error error) const;
  Result<std::string> expand(const dockerfile::Instruction& instr, std::string_view word) const;

  BuildShared& m_shared;
  std::size_t m_index;
  std::string m_root;
  ImageState m_state;
  std::optional<dockerfile::StageVariables> m_vars;
  std::optional<fs::Snapshotter> m_snapshotter;
  MetadataState m_meta;
  std::vector<std::string> m_masked;           // accumulated for --single-snapshot
  std::optional<std::size_t> m_last_fs_history;  // --single-snapshot: entry that gets the layer
  std::optional<cache::KeyChain> m_chain;         // layer cache keys of this stage
  std::vector<LayerBlob> m_unextracted;           // base layers / cache hits not yet in the root
  std::size_t m_step_index = 0;                   // steps so far (ONBUILD triggers included)
};

}  // namespace strata::build::detail
