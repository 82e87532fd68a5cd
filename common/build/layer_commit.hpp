// Turning a snapshot's change list into a layer blob: root → tar → compressor → BlobWriter in
// one streaming pass (memory does not grow with the layer), digests computed on the way.
// Change kinds map onto tar entries as fs/snapshot.hpp describes: deleted → whiteout, an entry
// with hardlink_to → hard link, everything else → the entry as it is on disk now.
//
// Thread safety: reentrant (one call per root at a time).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "archive/layer_writer.hpp"
#include "build/image_state.hpp"
#include "fs/snapshot.hpp"
#include "store/blob_store.hpp"
#include "util/result.hpp"

namespace strata::build {

// Writes the layer for `changes` (paths relative to `root`) into `blobs`. nullopt when the list
// is empty (no layer, as docker does for a step that changed nothing).
// Errors: io/no_space from the root or the store, those of the tar writer.
Result<std::optional<LayerBlob>> commit_layer(const std::vector<fs::Change>& changes, const std::string& root,
                                              const store::BlobStore& blobs, const archive::LayerOptions& options,
                                              ManifestFormat format);

// Drops the changes at or below any of `masked` (relative paths), e.g. the files a RUN step
// had bind-mounted, together with parent entries that no longer lead to a change.
std::vector<fs::Change> drop_masked(std::vector<fs::Change> changes, const std::vector<std::string>& masked);

}  // namespace strata::build
