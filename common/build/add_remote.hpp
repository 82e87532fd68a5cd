// ADD of remote sources.
//
// URLs (BuildKit's llb.HTTP as dockerfile2llb uses it): the body is streamed to a temp file and
// hashed on the way; the file is named after the last component of the URL path
// ("__unnamed__" when there is none), gets mode 0600 (before --chmod) and, when the response has
// a Last-Modified header, that mtime (else the time of download). Redirects are followed (at most
// 10, http/https only). `--checksum=sha256:<hex>` is verified before anything is placed. A
// remote file is never extracted.
//
// Git (`https://host/repo.git#ref[:subdir]`, `git@host:repo#ref`, `git://`, `ssh://`): cloned
// with the git CLI (shallow when possible) into a temp dir, `.git` removed unless
// --keep-git-dir; the tree is then copied like a directory source.
// Thread safety: reentrant; the transport must allow concurrent use as its contract says.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "digest/digest.hpp"
#include "util/result.hpp"

namespace strata::transport {
class Transport;
}

namespace strata::build {

bool is_http_url(std::string_view source);
bool is_git_url(std::string_view source);

struct GitSource {
  std::string remote;  // URL without the fragment
  std::string ref;     // "" = default branch
  std::string subdir;  // "" = repository root
};
Result<GitSource> parse_git_source(std::string_view source);

struct Download {
  std::string path;      // the temp file
  std::string filename;  // from the URL
  digest::Digest digest;
  std::uint64_t size = 0;
  std::optional<std::int64_t> mtime_ns;  // Last-Modified
};

// File name BuildKit gives a URL download: path.Base of the URL path, "__unnamed__" if empty.
std::string url_file_name(std::string_view url);

// Parses an HTTP date (RFC 1123, as Last-Modified). nullopt when malformed.
std::optional<std::int64_t> parse_http_date(std::string_view text);

// Downloads `url` into a new file in `dir`. `checksum` ("" or "sha256:<hex>") is verified.
// Errors: invalid_argument for a bad checksum, corrupt for a mismatch (naming both digests),
// the HTTP status as transport::status_error maps it, network/timeout from the transport.
Result<Download> download_url(transport::Transport& transport, const std::string& url, const std::string& dir,
                              const std::string& checksum);

// Clones `source` into the empty directory `dir`. Errors: unsupported when `git_binary` cannot be
// run, invalid_argument/not_found from git's exit status (its stderr quoted).
Result<void> git_clone(const std::string& git_binary, const GitSource& source, const std::string& dir,
                       bool keep_git_dir);

}  // namespace strata::build
