#include "archive/archive_error.hpp"

#include <archive.h>

#include <cerrno>
#include <string>

#include "archive/tar_entry.hpp"

namespace strata::archive {

std::string_view to_string(EntryType type) {
  switch (type) {
    case EntryType::regular: return "file";
    case EntryType::directory: return "directory";
    case EntryType::symlink: return "symlink";
    case EntryType::hardlink: return "hardlink";
    case EntryType::char_device: return "char device";
    case EntryType::block_device: return "block device";
    case EntryType::fifo: return "fifo";
    case EntryType::socket: return "socket";
  }
  return "entry";
}

namespace detail {

Error archive_error(::archive* a, std::string_view what, ErrorKind fallback) {
  int err = archive_errno(a);
  const char* text = archive_error_string(a);
  std::string message(what);
  message += ": ";
  message += text ? text : "unknown libarchive error";
  switch (err) {
    case 0:
    case -1:      // ARCHIVE_ERRNO_MISC
    case EILSEQ:  // ARCHIVE_ERRNO_FILE_FORMAT on Linux
    case EINVAL:  // ARCHIVE_ERRNO_PROGRAMMER
      return Error(fallback, std::move(message));
    case ENOMEM:
      return Error(ErrorKind::internal, std::move(message));
    default: {
      Error e = errno_error(what, err);
      return Error(e.kind(), std::move(message), e.retryable());
    }
  }
}

}  // namespace detail
}  // namespace strata::archive
