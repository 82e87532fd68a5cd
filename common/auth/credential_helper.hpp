// The docker-credential-helpers protocol, "get" only: run `docker-credential-<name> get` (found
// on PATH), write the server URL to its stdin, read {"ServerURL","Username","Secret"} from its
// stdout. A Username of "<token>" means Secret is an identity (refresh) token. A helper that
// exits non-zero printing "credentials not found in native keychain" has nothing for the
// server: that is not an error.
//
// Thread-safe (no shared state); blocks the calling thread up to `timeout`.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "auth/credentials.hpp"
#include "util/result.hpp"

namespace strata::auth {

// Returns the credentials, or nullopt when the helper has none for `server_url`.
// Errors (each naming docker-credential-<name>, never the helper's stdout):
//   not_found     the helper is not installed on PATH;
//   timeout       it did not finish in time (it is killed);
//   unauthorized  it failed (non-zero exit), with the first line of its stderr;
//   corrupt       it printed something that is not the expected JSON.
Result<std::optional<Credentials>> run_credential_helper(std::string_view name, std::string_view server_url,
                                                         std::chrono::milliseconds timeout);

}  // namespace strata::auth
