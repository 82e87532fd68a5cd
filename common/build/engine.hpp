// The build engine: a Dockerfile in, an ImageState out (config + layer blobs on disk). Outputs
// (push, tar, OCI layout) are separate steps over the assembled image (image_assembly.hpp,
// outputs.hpp).
//
// How a build proceeds (docs/executor.md has the long version):
//   1. parse the Dockerfile, declare the global ARGs, compute the stage graph (target, needed
//      stages with --skip-unused-stages; otherwise every stage up to the target, as kaniko);
//   2. per stage: base state (scratch, an earlier stage's result, or an image via ImageSource),
//      a fresh root dir under the work dir with the base layers unpacked, a baseline snapshot;
//   3. the base image's ONBUILD triggers, then each instruction: metadata instructions update
//      the config (history entry with empty_layer), RUN runs through common/run, COPY/ADD through
//      plan_copy/execute_copy, WORKDIR creates its directory; after each filesystem-changing
//      step the root is snapshotted and the changes become one layer blob (none when nothing
//      changed) — or only once at the end of the stage with --single-snapshot;
//   4. roots are deleted as soon as no later stage copies from them.
//
// Ownership: the ImageSource and transport must outlive the call. Layer blobs of the result
// live in <work_dir>/store (and in the base image's store); the caller removes work_dir.
// Thread safety: one build per work dir.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "archive/layer_writer.hpp"
#include "build/base_image.hpp"
#include "build/image_state.hpp"
#include "fs/snapshot.hpp"
#include "image/platform.hpp"
#include "run/run.hpp"
#include "util/result.hpp"

namespace strata::transport {
class Transport;
}
namespace strata::cache {
class LayerCache;
}

namespace strata::build {

struct BuildOptions {
  std::string context_dir;
  std::string dockerfile_path;  // the file to read; errors are reported against its name
  std::map<std::string, std::string> build_args;  // --build-arg, already resolved from the env
  std::string target;
  bool skip_unused_stages = false;
  std::map<std::string, std::string> labels;  // --label, applied to the final image
  image::Platform platform = image::Platform::host();

  std::string work_dir;  // exclusive to this build: roots, layer store, temp files
  // Paths never touched by extraction or snapshots when building in place (the kaniko dir,
  // the cache dir).
  std::vector<std::string> protected_paths;
  run::Isolation isolation = run::Isolation::chroot;
  bool force = false;  // in-place outside a container

  fs::SnapshotMode snapshot_mode = fs::SnapshotMode::full;
  bool single_snapshot = false;
  std::vector<std::string> ignore_paths;
  bool ignore_var_run = true;

  archive::LayerOptions layer;  // compression, level, mtime policy (--reproducible: set, 0)
  bool reproducible = false;    // no timestamps in config and history
  std::function<std::string()> clock;  // RFC 3339 "now"; default: the system clock, UTC

  transport::Transport* transport = nullptr;  // ADD <url>; nullptr refuses URLs
  // --secret id=ID,src=FILE: host files for RUN --mount=type=secret,id=ID (never in a layer).
  std::map<std::string, std::string> secrets;
  // Out, optional: the exit status of the RUN step that failed the build (kaniko exits with it).
  int* failed_run_status = nullptr;

  // The layer cache (--cache), or nullptr. Every step is keyed; RUN (and COPY/ADD with
  // --cache-copy-layers) steps are looked up before they run: a hit appends the cached layer
  // and its files are extracted into the root only when a later step needs them; a miss runs
  // and stores its layer. Not with --single-snapshot (no per-step layers). docs/caching.md.
  cache::LayerCache* layer_cache = nullptr;
};

struct BuildStats {
  int stages = 0;
  int steps = 0;
  int layers = 0;  // layers added by the build
  int cached_layers = 0;  // of which taken from the layer cache
  std::uint64_t layer_bytes = 0;
};

struct BuildResult {
  ImageState image;
  BuildStats stats;
};

// Errors: invalid_argument "FILE:LINE: ..." for Dockerfile errors and failing steps ("FILE:7:
// RUN make: exit status 2"), those of the image source, the file system and the layer writer.
Result<BuildResult> build_image(const BuildOptions& options, ImageSource& images);

// The current time as RFC 3339 with seconds, UTC ("2024-05-01T12:00:00Z").
std::string rfc3339_now();

}  // namespace strata::build
