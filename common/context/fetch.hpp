// Internal to common/context/: what every source kind shares. One fetch_*
// function per kind (one file each) fills an empty directory `dest` with the
// context; downloads go to a file in FetchEnv::work_dir first (streamed, never
// held in memory) and are then checked and extracted by
// extract_context_archive().
#pragma once

#include <cstdint>
#include <string>

#include "context/context_spec.hpp"
#include "transport/transport.hpp"
#include "util/result.hpp"

namespace strata::context {

struct FetchEnv {
  transport::Transport *transport = nullptr;
  EnvLookup env;
  std::string
      work_dir; // private scratch dir (exists), removed with the context
  int stdin_fd = 0;
  std::string git_binary = "git";
  std::string what; // "context s3://b/k", prefix of every error
};

struct HttpGet {
  std::string url;
  transport::Headers headers;
  transport::TlsConfig tls;
  std::string shown_url; // the URL as messages may show it (no query: SAS
                         // tokens live there)
};

// TLS settings for context downloads: SSL_CERT_FILE (when set) is the CA
// bundle.
transport::TlsConfig tls_from_env(const EnvLookup &env);

// Streams a GET into a new file `path` (0600), with a progress line. Follows up
// to 10 redirects, dropping Authorization when the host changes. Errors: the
// HTTP status as status_error maps it (401 unauthorized, 403 denied, 404
// not_found...), network errors; all prefixed with env.what.
Result<std::uint64_t> download_to_file(const FetchEnv &env, const HttpGet &get,
                                       const std::string &path);

// An HTTP error status as an Error: the kind as transport::status_error maps
// it, the message
// "`what`: HTTP <status>: " and the start of the server's answer (redacted, on
// one line).
Error context_http_error(int status, const std::string &what,
                         std::string_view body);

// download_to_file into work_dir, then extract_context_archive into dest; the
// download is removed afterwards.
Result<void> download_and_extract(const FetchEnv &env, const HttpGet &get,
                                  const std::string &dest);

Result<void> fetch_tar_file(const FetchEnv &env, const ContextSpec &spec,
                            const std::string &dest);
Result<void> fetch_tar_stdin(const FetchEnv &env, const std::string &dest);
Result<void> fetch_https_tar(const FetchEnv &env, const ContextSpec &spec,
                             const std::string &dest);
Result<void> fetch_s3(const FetchEnv &env, const ContextSpec &spec,
                      const std::string &dest);
Result<void> fetch_gcs(const FetchEnv &env, const ContextSpec &spec,
                       const std::string &dest);
Result<void> fetch_azure_blob(const FetchEnv &env, const ContextSpec &spec,
                              const std::string &dest);
Result<void> fetch_git(const FetchEnv &env, const ContextSpec &spec,
                       const GitOptions &options, const std::string &dest);

} // namespace strata::context
