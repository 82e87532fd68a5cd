#include "build_context.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "cli/app.hpp"

namespace strata::executor {

Result<void> check_context_flags(const Flags &f) {
  auto spec = context::parse_context(f.context);
  if (!spec)
    return fail(cli::usage_error(spec.error().message()));
  struct stat st {};
  if (spec->kind == context::Kind::dir &&
      (::stat(spec->location.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
    return fail(
        cli::usage_error("--context " + f.context + ": not a directory"));
  if (spec->kind == context::Kind::tar_file &&
      ::access(spec->location.c_str(), R_OK) != 0)
    return fail(cli::usage_error("--context " + f.context + ": cannot read " +
                                 spec->location));
  if (auto git = context::parse_git_options(f.git); !git)
    return fail(cli::usage_error(git.error().message()));
  return {};
}

Result<context::ResolvedContext>
fetch_context(const Flags &f, const std::string &kaniko_dir,
              transport::Transport &transport) {
  context::ResolveOptions o;
  o.context = f.context;
  o.sub_path = f.context_sub_path;
  o.git = TRY(context::parse_git_options(f.git));
  o.work_dir = kaniko_dir + "/context-" + std::to_string(::getpid());
  o.transport = &transport;
  return context::resolve_context(o);
}

} // namespace strata::executor
