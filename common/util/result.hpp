// Result<T>: how every function in common/ reports failure. Nothing in common/ throws across its
// API; foreign errors (CURLcode, HTTP statuses, rocksdb::Status, ARCHIVE_*, errno) are translated
// into an Error in exactly one place each.
//
// An Error has a kind (what a caller may branch on), a message that already carries its context
// ("GET https://host/v2/x/blobs/sha256:..: connection reset"), and whether retrying the same
// operation may succeed.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace strata {

enum class ErrorKind {
  not_found,
  unauthorized,      // credentials missing or rejected (HTTP 401)
  denied,            // authenticated but not allowed (HTTP 403), or a permission error
  invalid_argument,  // the caller's input is wrong (bad reference, bad flag, bad Dockerfile)
  corrupt,           // data does not match its digest/size, or cannot be parsed
  io,                // local file system errors
  no_space,          // ENOSPC / EDQUOT
  network,           // connection refused/reset, DNS, TLS handshake
  timeout,
  unsupported,       // valid input we deliberately do not handle (e.g. schema1 manifests)
  conflict,          // someone else holds a lock or changed the thing under us
  cancelled,
  internal,
};

std::string_view to_string(ErrorKind kind);

class Error {
 public:
  Error(ErrorKind kind, std::string message, bool retryable = false)
      : m_kind(kind), m_message(std::move(message)), m_retryable(retryable) {}

  ErrorKind kind() const { return m_kind; }
  const std::string& message() const { return m_message; }
  bool retryable() const { return m_retryable; }

  // Prefixes the message with "what: ", keeping kind and retryability.
  Error& context(std::string_view what) {
    m_message = std::string(what) + ": " + m_message;
    return *this;
  }
  Error with_context(std::string_view what) const& {
    Error copy = *this;
    copy.context(what);
    return copy;
  }

 private:
  ErrorKind m_kind;
  std::string m_message;
  bool m_retryable;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorKind kind, std::string message, bool retryable = false) {
  return tl::unexpected<Error>(Error(kind, std::move(message), retryable));
}
inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

// Builds an Error from errno (ENOSPC → no_space, ENOENT → not_found, EACCES/EPERM → denied,
// everything else io), with "what: strerror" as message.
Error errno_error(std::string_view what, int err);
inline tl::unexpected<Error> fail_errno(std::string_view what, int err) {
  return tl::unexpected<Error>(errno_error(what, err));
}

namespace detail {
template <class T>
T take_value(Result<T>&& r) { return std::move(*r); }
inline void take_value(Result<void>&&) {}
}  // namespace detail

}  // namespace strata

// TRY(expr): evaluates a Result; on error returns it from the enclosing function, otherwise the
// expression's value is the contained value (void for Result<void>). GCC/Clang statement
// expression, as ccache's TRY.
#define TRY(expr)                                                          \
  ({                                                                       \
    auto _strata_try_r = (expr);                                           \
    if (!_strata_try_r) return ::tl::unexpected(std::move(_strata_try_r.error())); \
    ::strata::detail::take_value(std::move(_strata_try_r));                \
  })

// TRY_CTX(expr, what): as TRY, prefixing the error message with "what: ".
#define TRY_CTX(expr, what)                                                \
  ({                                                                       \
    auto _strata_try_r = (expr);                                           \
    if (!_strata_try_r)                                                    \
      return ::tl::unexpected(std::move(_strata_try_r.error().context(what))); \
    ::strata::detail::take_value(std::move(_strata_try_r));                \
  })
