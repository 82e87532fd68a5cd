#include "cli/app.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "util/log.hpp"

namespace strata::cli {
namespace {
constexpr std::string_view k_usage_marker = "\x01usage:";

// kaniko (Go's flag package) accepts `-v=trace` for a one-letter flag; CLI11 would read "=trace" as
// the value. Split such arguments into `-v` `trace`; everything after `--` is left alone.
std::vector<std::string> go_style_short_flags(int argc, char** argv) {
  std::vector<std::string> out;
  bool rest = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") rest = true;
    if (!rest && a.size() > 3 && a[0] == '-' && a[1] != '-' && a[2] == '=') {
      out.push_back(a.substr(0, 2));
      out.push_back(a.substr(3));
    } else {
      out.push_back(std::move(a));
    }
  }
  return out;
}
}  // namespace

void add_log_flags(CLI::App& app, LogFlags& flags) {
  app.add_option("-v,--verbosity", flags.verbosity,
                 "Log level: panic, fatal, error, warn, info, debug, trace")
      ->capture_default_str()
      ->group("Logging");
  app.add_option("--log-format", flags.format, "Log format: text, color, json")
      ->capture_default_str()
      ->group("Logging");
  app.add_flag("--log-timestamp", flags.timestamp, "Prefix every log line with a UTC timestamp")
      ->group("Logging");
}

Error usage_error(std::string message) {
  return Error(ErrorKind::invalid_argument, std::string(k_usage_marker) + message);
}

int run(const std::string& tool, CLI::App& app, int argc, char** argv, LogFlags& flags,
        const std::function<Result<void>()>& body) {
  app.set_version_flag("--version", std::string(tool) + " (strata) " STRATA_VERSION);
  try {
    auto args = go_style_short_flags(argc, argv);
    std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << tool << ": " << e.what() << "\nRun '" << tool << " --help' for usage.\n";
    return k_exit_usage;
  }

  log::Options options;
  options.tool = tool;
  options.timestamps = flags.timestamp;
  auto level = log::parse_level(flags.verbosity);
  auto format = log::parse_format(flags.format);
  if (!level || !format) {
    std::cerr << tool << ": " << (!level ? level.error().message() : format.error().message())
              << "\nRun '" << tool << " --help' for usage.\n";
    return k_exit_usage;
  }
  options.level = *level;
  options.format = *format;
  log::configure(options);

  Result<void> result = fail(ErrorKind::internal, "not run");
  try {
    result = body();
  } catch (const std::exception& e) {
    result = fail(ErrorKind::internal, std::string("unexpected exception: ") + e.what());
  }
  if (result) return k_exit_ok;

  std::string message = result.error().message();
  bool usage = message.rfind(k_usage_marker, 0) == 0;
  if (usage) message.erase(0, k_usage_marker.size());
  if (result.error().kind() == ErrorKind::unauthorized) {
    message += " (unauthorized: check the credentials for this registry in $DOCKER_CONFIG/config.json"
               " or ~/.docker/config.json)";
  }
  message = log::redact(message);
  if (*format == log::Format::json) {
    log::error(message, {{"kind", std::string(to_string(result.error().kind()))}});
  } else {
    std::string line = tool + ": error: " + message + "\n";
    if (usage) line += "Run '" + tool + " --help' for usage.\n";
    std::fputs(line.c_str(), stderr);
  }
  return usage ? k_exit_usage : k_exit_failure;
}

}  // namespace strata::cli
