#include "cli/credentials.hpp"

#include "auth/credentials.hpp"

namespace strata::cli {

Result<registry::LoginLookup> login_lookup() {
  auto store = TRY(auth::CredentialStore::load());
  return registry::LoginLookup([store](std::string_view registry) -> Result<registry::Login> {
    auto creds = TRY(store.get(registry));
    registry::Login login;
    login.username = creds.username;
    login.password = creds.password;
    login.identity_token = creds.identity_token;
    login.registry_token = creds.registry_token;
    return login;
  });
}

}  // namespace strata::cli
