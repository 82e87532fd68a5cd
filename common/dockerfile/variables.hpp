// ARG and ENV scoping of a Dockerfile build: a pure model that the executor drives while it walks
// the instructions, so that expansion, RUN environments and cache keys all see the same values.
//
// The rules (Docker's documentation and BuildKit's dockerfile2llb):
//   - ARGs before the first FROM are global: usable in FROM lines only. Inside a stage a global
//     ARG is invisible until re-declared by `ARG NAME` (without a value), which then takes the
//     global value (itself a --build-arg if one was given).
//   - In a stage, `ARG NAME[=default]` makes NAME visible from that instruction on, with the value
//     of --build-arg NAME if given, else the default, else the global ARG's value, else the
//     automatic platform value (TARGETARCH, ...), else it is declared but unset.
//   - ENV overrides an ARG of the same name, whatever their order (Docker's documented rule; the
//     classic builder's behaviour). ENV values persist into the image config, ARG values do not.
//   - A base image's Env seeds a stage's ENV; a stage built FROM another stage is seeded by the
//     caller with that stage's image_env().
//   - Predefined proxy args (HTTP_PROXY http_proxy HTTPS_PROXY https_proxy FTP_PROXY ftp_proxy
//     NO_PROXY no_proxy ALL_PROXY all_proxy), when given as --build-arg, reach the RUN environment
//     without a declaration, but not expansion, and they stay out of cache keys unless declared
//     (so a changed proxy does not bust the cache), as with Docker.
//   - Automatic platform args (TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM
//     BUILDOS BUILDARCH BUILDVARIANT) are global: FROM lines see them; a stage needs `ARG NAME`.
//   - A --build-arg that no ARG instruction (global or in a stage that was walked) declares is
//     reported by unused_build_args(); proxy args are never reported.
//
// The values passed in (ARG defaults, ENV values) must already be expanded by the caller, with
// the Lookup of the scope at that instruction (global_lookup() for global ARGs, StageVariables::
// lookup() in a stage), as BuildKit expands them before declaring.
//
// Ownership and thread safety: BuildVariables must outlive every StageVariables it created (they
// keep a pointer to it); it is neither copyable nor movable. Declaring ARGs in several stages from
// several threads is safe (the consumed-arg set is locked); one StageVariables is not thread-safe.
// A Lookup returned by lookup() refers to its object and sees later declarations.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dockerfile/shell_lex.hpp"

namespace strata::dockerfile {

bool is_proxy_arg(std::string_view name);
bool is_platform_arg(std::string_view name);

// The automatic platform args for a target and a build platform, each "os/arch[/variant]".
// Errors: invalid_argument if a platform has no "os/arch".
Result<std::map<std::string, std::string>> platform_args(std::string_view target_platform,
                                                         std::string_view build_platform);

// One variable a step can see, for cache keys.
struct VisibleVariable {
  enum class Source { env, arg };
  Source source;
  std::string name;
  std::string value;
  friend bool operator==(const VisibleVariable&, const VisibleVariable&) = default;
};

class StageVariables;

class BuildVariables {
 public:
  // build_args: the --build-arg values (NAME → VALUE; a bare `--build-arg NAME` taking its value
  // from the process environment is resolved by the caller). automatic: platform_args(...).
  BuildVariables(std::map<std::string, std::string> build_args,
                 std::map<std::string, std::string> automatic = {});
  BuildVariables(const BuildVariables&) = delete;
  BuildVariables& operator=(const BuildVariables&) = delete;

  // `ARG NAME[=default]` before the first FROM.
  void declare_global_arg(const std::string& name, std::optional<std::string> default_value);
  // For FROM lines and global ARG defaults: global ARGs that have a value, then automatic args.
  Lookup global_lookup() const;
  std::optional<std::string> global_value(std::string_view name) const;

  // Starts a stage whose ENV is seeded from base_env ("KEY=VALUE" entries, a base image's Env).
  StageVariables begin_stage(const std::vector<std::string>& base_env);

  // --build-arg names never declared by an ARG so far, sorted; proxy args excluded.
  std::vector<std::string> unused_build_args() const;
  // Docker's warning, "[Warning] One or more build-args [A B] were not consumed", or nullopt.
  std::optional<std::string> unused_build_args_warning() const;

  const std::map<std::string, std::string>& build_args() const { return m_build_args; }

 private:
  friend class StageVariables;
  void mark_consumed(const std::string& name);

  std::map<std::string, std::string> m_build_args;
  std::map<std::string, std::string> m_automatic;
  std::map<std::string, std::optional<std::string>> m_globals;
  mutable std::mutex m_mutex;
  std::set<std::string> m_consumed;
};

class StageVariables {
 public:
  // `ARG NAME[=default]` inside the stage (see the rules above for the resulting value).
  void declare_arg(const std::string& name, std::optional<std::string> default_value);
  // `ENV NAME=value`: replaces an existing entry in place, or appends.
  void set_env(const std::string& name, std::string value);

  // The value used to expand $NAME at this point: ENV, else an ARG in scope; nullopt if unset.
  std::optional<std::string> get(std::string_view name) const;
  Lookup lookup() const;

  // The image config's Env ("KEY=VALUE", in order): base env plus ENV instructions.
  std::vector<std::string> image_env() const;
  // The environment of a RUN step: image_env(), then ARGs in scope that have a value and are not
  // overridden by ENV, then the proxy --build-args not otherwise set.
  std::vector<std::string> run_env() const;
  // What a step can see, sorted by name (ENV and ARGs with a value, ENV winning over ARG; proxy
  // args only when declared): exactly the variables that belong in its cache key.
  std::vector<VisibleVariable> visible() const;
  // Names of the ARGs declared in this stage so far (with or without value), in order.
  std::vector<std::string> declared_args() const;

 private:
  friend class BuildVariables;
  explicit StageVariables(BuildVariables* build) : m_build(build) {}
  const std::string* env_value(std::string_view name) const;

  BuildVariables* m_build;
  std::vector<std::pair<std::string, std::string>> m_env;
  std::vector<std::pair<std::string, std::optional<std::string>>> m_args;
};

}  // namespace strata::dockerfile
