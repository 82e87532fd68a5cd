// The OCI image layout view of the cache dir: `oci-layout` and `index.json` next to `blobs/`,
// so that `skopeo inspect oci:<cache-dir>:<ref>` and `umoci unpack --image <cache-dir>:<ref>`
// read what the warmer cached.
//
// index.json lists one descriptor per cached reference (the index/manifest list when the
// reference resolved through one, else the manifest), annotated with
// org.opencontainers.image.ref.name = the normalised reference, e.g.
// "127.0.0.1:5000/library/busybox:latest". skopeo (containers/image) splits "oci:DIR:REF" at the
// first colon, so such names (with ':' and '/') work as long as DIR holds no ':'; umoci accepts
// them too (both checked by tests/unit/store/oci_layout_test.cpp).
//
// index.json is a derived file: it is rewritten atomically from the image records by the index
// write session that changed them, and read back only by reindex (it carries the names).
//
// Thread safety: free functions, reentrant; writes must happen under the index's exclusive lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "digest/digest.hpp"
#include "image/reference.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace strata::store {

inline constexpr std::string_view k_ref_name_annotation = "org.opencontainers.image.ref.name";

// The ref.name under which a reference appears in index.json: its normalised form.
inline std::string ref_name(const image::Reference& ref) { return ref.str(); }

struct LayoutEntry {
  std::string ref_name;  // "" for entries without the annotation
  digest::Digest digest;
  std::string media_type;
  std::uint64_t size = 0;
  std::string platform;  // "os/arch[/variant]" when the descriptor carries one
};

// Writes `oci-layout` if it is missing.
Result<void> ensure_oci_layout(const std::string& root);
// Rewrites index.json from image records: per reference, the top descriptor of its most recently
// fetched record; entries sorted by reference.
Result<void> write_index_json(const std::string& root, const std::vector<ImageRecord>& images);
// The same entries as LayoutEntry values (deterministic, what write_index_json writes).
std::vector<LayoutEntry> layout_entries(const std::vector<ImageRecord>& images);
// Reads index.json (not_found if missing; corrupt if unparsable). Descriptors with invalid
// digests are reported as corrupt.
Result<std::vector<LayoutEntry>> read_index_json(const std::string& root);

}  // namespace strata::store
