// Any other http(s):// URL: a tar.gz (or .tar / .tar.zst) downloaded as is, as
// kaniko's HTTPSTar. Plain http:// is accepted too (kaniko refuses it; local
// mirrors and tests use it).
#include "context/fetch.hpp"

namespace strata::context {

Result<void> fetch_https_tar(const FetchEnv &env, const ContextSpec &spec,
                             const std::string &dest) {
  HttpGet get;
  get.url = spec.location;
  get.shown_url = spec.location.substr(0, spec.location.find('?'));
  get.tls = tls_from_env(env.env);
  return download_and_extract(env, get, dest);
}

} // namespace strata::context
