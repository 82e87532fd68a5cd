// cachectl's subcommands: one class per subcommand (RocksDB ldb's shape), each declaring its own
// flags and running against a Context that carries the output streams, the clock and the file
// system probe, so tests run commands in-process from an argv array (tests/unit/cachectl/).
//
// Exit codes: 0 success; 1 failure (an Error, or `verify` finding problems); 2 usage errors.
// Every command takes --cache-dir/-c (default /cache), --json (one JSON document on stdout) and the
// logging flags; commands that delete or write take --dry-run.
//
// Thread safety: a Command is used once, by one thread. run() may be called from several threads
// with distinct Contexts.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "prune/policy.hpp"
#include "store/clock.hpp"
#include "util/result.hpp"

namespace strata::cachectl {

struct Context {
  Context(std::ostream& out_stream, std::ostream& err_stream) : out(out_stream), err(err_stream) {}
  std::ostream& out;
  std::ostream& err;
  store::Clock clock = store::system_clock();
  // Free space of the file system holding a path (statvfs by default; tests inject).
  std::function<Result<prune::FsSpace>(const std::string&)> fs_space;
  // Set by run() from the common flags.
  std::string cache_dir = "/cache";
  bool json = false;
};

class Command {
 public:
  virtual ~Command() = default;
  virtual std::string name() const = 0;
  virtual std::string help() const = 0;
  // Declares the command's own flags (the common ones are added by run()).
  virtual void add_flags(CLI::App& app) = 0;
  // Runs after parsing. Returns the exit code (0, or 1 for "found problems"); errors become 1,
  // cli::usage_error() becomes 2.
  virtual Result<int> run(Context& ctx) = 0;
};

using CommandFactory = std::function<std::unique_ptr<Command>()>;

// Every subcommand, in the order `cachectl --help` lists them.
const std::vector<std::pair<std::string, CommandFactory>>& commands();

// cachectl SUBCOMMAND [flags...]; args excludes the program name. Returns the exit code and writes
// errors as "cachectl: error: ..." to ctx.err.
int run(const std::vector<std::string>& args, Context& ctx);

// The statvfs probe Context uses by default.
Result<prune::FsSpace> statvfs_space(const std::string& path);

// Factories (one per file).
std::unique_ptr<Command> make_ls();
std::unique_ptr<Command> make_du();
std::unique_ptr<Command> make_inspect();
std::unique_ptr<Command> make_stats();
std::unique_ptr<Command> make_prune();
std::unique_ptr<Command> make_gc();
std::unique_ptr<Command> make_verify();
std::unique_ptr<Command> make_reindex();
std::unique_ptr<Command> make_repo_ls();
std::unique_ptr<Command> make_repo_prune();
std::unique_ptr<Command> make_sync();

}  // namespace strata::cachectl
