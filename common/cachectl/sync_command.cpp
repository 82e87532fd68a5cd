// cachectl sync SRC DST: copies layer-cache entries between a cache dir and a cache repo, or
// between two cache repos (cachectl/sync.hpp has the protocol).
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "cachectl/sync.hpp"
#include "cli/app.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

class SyncCommand : public Command {
 public:
  std::string name() const override { return "sync"; }
  std::string help() const override { return "Copy cache entries between a cache dir and cache repos"; }
  void add_flags(CLI::App& app) override {
    app.add_option("source", m_source, "dir:PATH (or /abs/path, ./rel) for a cache dir, else a registry repository")
        ->required();
    app.add_option("destination", m_destination, "As source; at least one side is a registry repository")->required();
    app.add_option("--filter", m_filters, "until=DURATION, ref~=REGEX (on the key/tag and step text) (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_flag("--dry-run", m_dry_run, "Show what would be copied; change nothing");
    app.add_option("--parallel", m_parallel, "Entries copied at once")->capture_default_str();
    app.add_option("--staging-dir", m_staging, "Where repo-to-repo copies stage blobs (default $TMPDIR or /tmp)");
    cli::add_registry_flags(app, m_registry);
  }

  Result<int> run(Context& ctx) override {
    SyncOptions o;
    o.source = m_source;
    o.destination = m_destination;
    o.dry_run = m_dry_run;
    o.parallel = std::max(1, m_parallel);
    o.staging_dir = m_staging;
    o.clock = ctx.clock;
    for (const auto& f : m_filters) {
      auto parsed = prune::parse_filter(f);
      if (!parsed) return fail(cli::usage_error("--filter: " + parsed.error().message()));
      o.filters.push_back(std::move(*parsed));
    }
    auto report = run_sync(o, m_registry);
    if (!report) {
      if (report.error().kind() == ErrorKind::invalid_argument) return fail(cli::usage_error(report.error().message()));
      return fail(report.error());
    }
    if (ctx.json) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& r : report->items) {
        nlohmann::json j{{"key", r.key},       {"step", r.step},
                         {"digest", r.digest}, {"size", r.size},
                         {"status", r.status}, {"blobs_copied", r.blobs_copied},
                         {"blobs_present", r.blobs_present}, {"bytes_copied", r.bytes_copied}};
        if (!r.detail.empty()) j["detail"] = r.detail;
        items.push_back(std::move(j));
      }
      ctx.out << nlohmann::json{{"source", report->source},
                                {"destination", report->destination},
                                {"dry_run", m_dry_run},
                                {"entries", items},
                                {"copied", report->copied},
                                {"present", report->present},
                                {"skipped", report->skipped},
                                {"failed", report->failed},
                                {"blobs_copied", report->blobs_copied},
                                {"blobs_present", report->blobs_present},
                                {"bytes_copied", report->bytes_copied},
                                {"errors", report->errors}}
                         .dump(2)
              << "\n";
    } else {
      Table t({"KEY", "SIZE", "STATUS", "BLOBS", "STEP"});
      for (const auto& r : report->items) {
        std::string key = r.key.size() > 20 ? r.key.substr(0, 16) + "..." : r.key;
        std::string status = r.detail.empty() ? r.status : r.status + " (" + r.detail + ")";
        std::string step = r.step.size() > 50 ? r.step.substr(0, 47) + "..." : r.step;
        t.add({key, util::human_size(r.size), status,
               std::to_string(r.blobs_copied) + " copied, " + std::to_string(r.blobs_present) + " present", step});
      }
      if (!t.empty()) t.print(ctx.out);
      ctx.out << report->source << " -> " << report->destination << ": " << (m_dry_run ? "would copy " : "copied ")
              << report->copied << " entries (" << report->blobs_copied << " blobs, "
              << util::human_size(report->bytes_copied) << "), " << report->present << " already present, "
              << report->skipped << " skipped, " << report->failed << " failed\n";
    }
    for (const auto& e : report->errors) log::error("cannot read source entry " + e);
    for (const auto& r : report->items)
      if (r.status == "failed") log::error("entry " + r.key + ": " + r.detail);
    return report->failed == 0 && report->errors.empty() ? 0 : 1;
  }

 private:
  std::string m_source, m_destination;
  std::vector<std::string> m_filters;
  bool m_dry_run = false;
  int m_parallel = 4;
  std::string m_staging;
  cli::RegistryFlags m_registry;
};

}  // namespace

std::unique_ptr<Command> make_sync() { return std::make_unique<SyncCommand>(); }

}  // namespace strata::cachectl
