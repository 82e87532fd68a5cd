#include "util/result.hpp"

#include <cerrno>
#include <cstring>

namespace strata {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::not_found: return "not found";
    case ErrorKind::unauthorized: return "unauthorized";
    case ErrorKind::denied: return "denied";
    case ErrorKind::invalid_argument: return "invalid argument";
    case ErrorKind::corrupt: return "corrupt";
    case ErrorKind::io: return "i/o error";
    case ErrorKind::no_space: return "no space left";
    case ErrorKind::network: return "network error";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::cancelled: return "cancelled";
    case ErrorKind::internal: return "internal error";
  }
  return "error";
}

Error errno_error(std::string_view what, int err) {
  ErrorKind kind = ErrorKind::io;
  switch (err) {
    case ENOSPC:
    case EDQUOT: kind = ErrorKind::no_space; break;
    case ENOENT:
    case ENOTDIR: kind = ErrorKind::not_found; break;
    case EACCES:
    case EPERM:
    case EROFS: kind = ErrorKind::denied; break;
    case EEXIST: kind = ErrorKind::conflict; break;
    default: break;
  }
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return Error(kind, std::move(message), err == EINTR || err == EAGAIN);
}

}  // namespace strata
