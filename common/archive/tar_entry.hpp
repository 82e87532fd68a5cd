// One tar entry's metadata, as the reader yields it and the writer takes it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::archive {

enum class EntryType { regular, directory, symlink, hardlink, char_device, block_device, fifo, socket };

std::string_view to_string(EntryType type);

struct TarEntry {
  std::string path;  // as stored in the archive (the writer stores it as given)
  EntryType type = EntryType::regular;
  std::uint32_t mode = 0644;  // permission and setuid/setgid/sticky bits (07777)
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
  std::uint32_t mtime_nsec = 0;
  std::uint64_t size = 0;   // content bytes; regular files only
  std::string link_target;  // symlink target, or the archive path a hardlink points to
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // name → raw value
};

// Whiteout naming, shared by the OCI image spec and docker's AUFS-era format.
inline constexpr std::string_view k_whiteout_prefix = ".wh.";
inline constexpr std::string_view k_opaque_whiteout = ".wh..wh..opq";

}  // namespace strata::archive
