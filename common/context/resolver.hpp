// Turns `--context` (+ `--context-sub-path`, `--git`) into a local directory to
// build from.
//
// A local directory (PATH, dir://PATH) is used in place. Every other kind is
// fetched into a private directory under ResolveOptions::work_dir (the executor
// passes <--kaniko-dir>/ context-<pid>), which the ResolvedContext owns and
// removes when it is destroyed: a failed or finished build leaves nothing
// behind. Remote archives are streamed to disk, checked (safe_extract.hpp) and
// unpacked; git repositories are cloned shallowly (fetch.hpp, one file per
// kind). docs/contexts.md documents every kind and its environment variables.
//
// --context-sub-path applies to every kind, local directories included (kaniko
// ignores it for those): it must name a directory inside the context, and is
// resolved as if chroot()ed into the context, so neither ".." nor a symlink can
// leave it.
//
// Errors name the context as given ("context s3://bucket/ctx.tgz: no such
// object (GET ...: 404)"): not_found, unauthorized/denied (credentials),
// corrupt (not an archive, unsafe entry), network, invalid_argument (malformed
// --context), unsupported (git missing). Thread safety: resolve_context may run
// concurrently for distinct work dirs.
#pragma once

#include <string>
#include <vector>

#include "context/context_spec.hpp"
#include "util/result.hpp"

namespace strata::transport {
class Transport;
}

namespace strata::context {

struct ResolveOptions {
  std::string context;  // --context
  std::string sub_path; // --context-sub-path ("" = the root)
  GitOptions git;       // --git
  std::string work_dir; // fetched contexts go here (created; must not exist or
                        // be empty)
  transport::Transport *transport = nullptr; // for http(s) downloads; not owned
  EnvLookup env = process_env();
  int stdin_fd = 0; // tar://stdin
  std::string git_binary = "git";
};

class ResolvedContext {
public:
  ResolvedContext() = default;
  ResolvedContext(ResolvedContext &&other) noexcept;
  ResolvedContext &operator=(ResolvedContext &&other) noexcept;
  ResolvedContext(const ResolvedContext &) = delete;
  ResolvedContext &operator=(const ResolvedContext &) = delete;
  ~ResolvedContext(); // removes owned_dir()

  const std::string &dir() const { return m_dir; } // absolute; build from here
  const std::string &owned_dir() const {
    return m_owned;
  } // "" for local directories
  Kind kind() const { return m_kind; }
  // Removes the fetched context now. Errors: io.
  Result<void> remove();

private:
  friend Result<ResolvedContext> resolve_context(const ResolveOptions &options);
  std::string m_dir;
  std::string m_owned;
  Kind m_kind = Kind::dir;
};

Result<ResolvedContext> resolve_context(const ResolveOptions &options);

} // namespace strata::context
