#include <sys/statvfs.h>

#include <cerrno>
#include <iostream>

#include "cachectl/command.hpp"
#include "cli/app.hpp"
#include "util/log.hpp"

namespace strata::cachectl {

const std::vector<std::pair<std::string, CommandFactory>>& commands() {
  static const std::vector<std::pair<std::string, CommandFactory>> k_commands = {
      {"ls", make_ls},       {"du", make_du}, {"inspect", make_inspect}, {"stats", make_stats},
      {"prune", make_prune}, {"gc", make_gc}, {"verify", make_verify},   {"reindex", make_reindex},
      {"repo ls", make_repo_ls}, {"repo prune", make_repo_prune}, {"sync", make_sync},
  };
  return k_commands;
}

Result<prune::FsSpace> statvfs_space(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return fail_errno("statvfs " + path, errno);
  return prune::FsSpace{static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize,
                        static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize};
}

namespace {

void usage(std::ostream& os) {
  os << "cachectl administers a strata cache directory (shared by warmers and executors).\n\n"
        "Usage: cachectl SUBCOMMAND [flags]   (cachectl SUBCOMMAND --help for its flags)\n\nSubcommands:\n";
  for (const auto& [name, factory] : commands()) {
    os << "  " << name;
    for (std::size_t i = name.size(); i < 12; ++i) os << ' ';
    os << factory()->help() << "\n";
  }
}

bool is_usage(const Error& e) {
  static const std::string k_marker = cli::usage_error("").message();
  return e.message().rfind(k_marker, 0) == 0;
}

}  // namespace

int run(const std::vector<std::string>& args, Context& ctx) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    usage(args.empty() ? ctx.err : ctx.out);
    return args.empty() ? cli::k_exit_usage : cli::k_exit_ok;
  }
  if (args[0] == "--version") {
    ctx.out << "cachectl (strata) " STRATA_VERSION "\n";
    return cli::k_exit_ok;
  }
  std::unique_ptr<Command> command;
  std::string wanted = args[0];
  std::size_t skip = 1;
  if (wanted == "repo" && args.size() > 1) {  // two-word subcommands: "repo ls", "repo prune"
    wanted += " " + args[1];
    skip = 2;
  }
  for (const auto& [name, factory] : commands()) {
    if (name == wanted) command = factory();
  }
  if (!command) {
    ctx.err << "cachectl: unknown subcommand '" << wanted << "'\nRun 'cachectl --help' for usage.\n";
    return cli::k_exit_usage;
  }

  CLI::App app{command->help(), "cachectl " + command->name()};
  app.add_option("-c,--cache-dir", ctx.cache_dir, "Directory of the cache")->capture_default_str();
  app.add_flag("--json", ctx.json, "Print one JSON document instead of a table");
  cli::LogFlags log_flags;
  cli::add_log_flags(app, log_flags);
  command->add_flags(app);
  std::vector<std::string> rest(args.rbegin(), args.rend() - static_cast<std::ptrdiff_t>(skip));  // CLI11 wants them reversed
  try {
    app.parse(rest);
  } catch (const CLI::CallForHelp&) {
    ctx.out << app.help();
    return cli::k_exit_ok;
  } catch (const CLI::ParseError& e) {
    ctx.err << "cachectl " << command->name() << ": " << e.what() << "\nRun 'cachectl " << command->name()
            << " --help' for usage.\n";
    return cli::k_exit_usage;
  }
  auto level = log::parse_level(log_flags.verbosity);
  auto format = log::parse_format(log_flags.format);
  if (!level || !format) {
    ctx.err << "cachectl: " << (!level ? level.error().message() : format.error().message()) << "\n";
    return cli::k_exit_usage;
  }
  log::Options options;
  options.tool = "cachectl";
  options.level = *level;
  options.format = *format;
  options.timestamps = log_flags.timestamp;
  log::configure(options);
  if (!ctx.fs_space) ctx.fs_space = statvfs_space;

  Result<int> result = fail(ErrorKind::internal, "not run");
  try {
    result = command->run(ctx);
  } catch (const std::exception& e) {
    result = fail(ErrorKind::internal, std::string("unexpected exception: ") + e.what());
  }
  if (result) return *result;
  std::string message = result.error().message();
  bool usage_err = is_usage(result.error());
  if (usage_err) message.erase(0, cli::usage_error("").message().size());
  ctx.err << "cachectl: error: " << log::redact(message) << "\n";
  if (usage_err) ctx.err << "Run 'cachectl " << command->name() << " --help' for usage.\n";
  return usage_err ? cli::k_exit_usage : cli::k_exit_failure;
}

}  // namespace strata::cachectl
