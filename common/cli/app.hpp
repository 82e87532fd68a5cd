// The shell every tool shares: kaniko's logging flags, parsing with usage errors on exit code 2,
// one place that turns an Error into "TOOL: error: ..." and exit code 1.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "util/result.hpp"

namespace strata::cli {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;

struct LogFlags {
  std::string verbosity = "info";
  std::string format = "text";
  bool timestamp = false;
};

// Adds --verbosity/-v, --log-format, --log-timestamp (kaniko's names and defaults).
void add_log_flags(CLI::App& app, LogFlags& flags);

// Parses argv into app, configures logging for `tool`, then runs body. Returns the process exit
// code: 0 on success (also for --help/--version), 2 for a usage error (message and a hint to
// --help on stderr), 1 when body fails (its error printed once as "TOOL: error: MESSAGE").
int run(const std::string& tool, CLI::App& app, int argc, char** argv, LogFlags& flags,
        const std::function<Result<void>()>& body);

// A usage error found after parsing (conflicting flags, bad values): body may return it and
// run() exits 2 instead of 1.
Error usage_error(std::string message);

}  // namespace strata::cli
