// What `--context` names, parsed (kaniko's syntax; docs/contexts.md has the
// table):
//
//   PATH, dir://PATH                       a local directory
//   tar://PATH                             a local .tar / .tar.gz / .tar.zst
//   (told by content) tar://stdin                            a (gzip) tar read
//   from standard input git://HOST/REPO.git[#REF[#COMMIT]]     git; fetched
//   over GIT_PULL_METHOD (https by default, as
//                                          kaniko; "http", or "git" for the git
//                                          protocol itself)
//   https://HOST/PATH.git[#REF[#COMMIT]]   git over http(s); also any https URL
//   with a #fragment s3://BUCKET/KEY                        a tar.gz in S3 (or
//   an S3-compatible store) gs://BUCKET[/PATH]                     a tar.gz in
//   Google Cloud Storage (default context.tar.gz)
//   https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB (and the sovereign
//   clouds' hosts) https://... (anything else)            a tar.gz downloaded
//   over HTTPS
//
// Parsing is pure: nothing is fetched and the environment is not read.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace strata::context {

enum class Kind {
  dir,
  tar_file,
  tar_stdin,
  git,
  s3,
  gcs,
  azure_blob,
  https_tar
};
std::string_view to_string(Kind kind);

struct ContextSpec {
  Kind kind = Kind::dir;
  std::string
      original; // as given, for messages (never holds credentials we added)
  std::string location; // the path, URL, or BUCKET/KEY after the scheme
};

// Errors: invalid_argument for an empty context or an unknown scheme
// ("ftp://...").
Result<ContextSpec> parse_context(std::string_view context);

// Whether `host` is an Azure Blob Storage endpoint (public or sovereign cloud).
bool is_azure_blob_host(std::string_view host);

// `--git` options (kaniko: comma separated key=value, repeatable).
struct GitOptions {
  std::string branch;
  bool single_branch = false;
  bool recurse_submodules = false;
  bool insecure_skip_tls = false;
};
// Errors: invalid_argument naming the unknown key or the bad boolean.
Result<GitOptions> parse_git_options(const std::vector<std::string> &items);

// A git context split into its parts: "git://h/r.git#refs/heads/x#abc123" →
// {url "git://h/r.git", ref "refs/heads/x", commit "abc123"}. A REF of 40 (or
// 64) hex digits is taken as the commit.
struct GitLocation {
  std::string url;
  std::string ref;
  std::string commit;
};
Result<GitLocation> split_git_location(std::string_view url);

// Reads an environment variable; injected so that tests do not mutate the
// process environment.
using EnvLookup =
    std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_env();

// "" when unset.
std::string env_or(const EnvLookup &env, std::string_view name,
                   std::string_view fallback = {});

} // namespace strata::context
