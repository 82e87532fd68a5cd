// gs://BUCKET[/OBJECT]: the JSON API's media download,
//   GET {base}/storage/v1/b/BUCKET/o/urlencode(OBJECT)?alt=media
//   (Authorization: Bearer TOKEN)
// OBJECT defaults to context.tar.gz (kaniko); a path ending in "/" gets it
// appended. {base} is https://storage.googleapis.com, or STORAGE_EMULATOR_HOST
// (scheme optional, http assumed) as the Google client libraries read it.
// Credentials: see google_auth.hpp; with none the request is anonymous (public
// buckets, emulators).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "auth/token.hpp"
#include "build/context.hpp"
#include "context/fetch.hpp"
#include "context/google_auth.hpp"
#include "util/fd.hpp"

namespace strata::context {

Result<void> fetch_gcs(const FetchEnv &env, const ContextSpec &spec,
                       const std::string &dest) {
  std::size_t slash = spec.location.find('/');
  std::string bucket = spec.location.substr(0, slash);
  std::string object =
      slash == std::string::npos ? "" : spec.location.substr(slash + 1);
  if (object.empty() || object.ends_with("/"))
    object += "context.tar.gz";
  if (bucket.empty())
    return fail(ErrorKind::invalid_argument,
                env.what + ": expected gs://BUCKET/PATH");

  std::string base = env_or(env.env, "STORAGE_EMULATOR_HOST");
  if (base.empty())
    base = "https://storage.googleapis.com";
  else if (base.find("://") == std::string::npos)
    base = "http://" + base;
  while (base.ends_with("/"))
    base.pop_back();

  HttpGet get;
  get.url = base + "/storage/v1/b/" + auth::url_encode(bucket) + "/o/" +
            auth::url_encode(object) + "?alt=media";
  get.shown_url = get.url;
  get.tls = tls_from_env(env.env);
  if (auto file = google_credentials_file(env.env)) {
    int fd = ::open(file->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return fail_errno(env.what + ": GOOGLE_APPLICATION_CREDENTIALS " + *file,
                        errno);
    util::Fd guard(fd);
    std::string text = TRY_CTX(build::read_small_file(fd, *file), env.what);
    ServiceAccount account =
        TRY_CTX(parse_service_account(text, *file), env.what);
    std::string token =
        TRY_CTX(fetch_access_token(*env.transport, account, get.tls), env.what);
    get.headers.add("Authorization", "Bearer " + token);
  }
  return download_and_extract(env, get, dest);
}

} // namespace strata::context
