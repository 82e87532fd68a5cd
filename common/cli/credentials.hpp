// Glue between the user's registry credentials (auth::CredentialStore: config.json and
// credential helpers) and the registry client's auth flow (registry::LoginLookup).
#pragma once

#include "registry/session.hpp"
#include "util/result.hpp"

namespace strata::cli {

// Loads credentials from the environment ($DOCKER_CONFIG, else ~/.docker) and returns the lookup
// the registry client calls per registry. Errors: a config.json that cannot be read or parsed.
Result<registry::LoginLookup> login_lookup();

}  // namespace strata::cli
