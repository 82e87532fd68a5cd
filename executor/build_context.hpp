// --context, --context-sub-path and --git: checked up front (usage errors, exit
// 2), then resolved into a local directory under --kaniko-dir
// (common/context/resolver.hpp).
#pragma once

#include <string>

#include "context/resolver.hpp"
#include "flags.hpp"
#include "util/result.hpp"

namespace strata::transport {
class Transport;
}

namespace strata::executor {

// Syntax only: nothing is fetched. Errors: usage errors.
Result<void> check_context_flags(const Flags &flags);

// Fetches the context into <kaniko_dir>/context-<pid> (removed when the result
// is destroyed).
Result<context::ResolvedContext> fetch_context(const Flags &flags,
                                               const std::string &kaniko_dir,
                                               transport::Transport &transport);

} // namespace strata::executor
