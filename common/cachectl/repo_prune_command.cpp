// cachectl repo prune REPO: evicts entries of a cache repo in a registry by policy and deletes
// their manifests by digest through the registry API.
//
// The local planner decides (prune/policy.hpp over remote_repo.hpp's to_snapshot): --older-than
// (created before now - D; a registry records no use), --keep-last N (the N newest entries are
// kept), --max-used-space SIZE (oldest first until the repo's distinct blobs fit), --filter, --keep,
// --all. Deleting a manifest by digest removes every tag naming it, so a digest that a kept tag
// still names is never deleted (reported as kept). What the registry refuses (405 UNSUPPORTED when
// deletion is disabled, 403 denied, ...) is reported per digest and makes the exit code 1. Blobs
// are freed only by the registry's own garbage collection (docs/cachectl.md).
#include <map>
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/remote_repo.hpp"
#include "cachectl/support.hpp"
#include "cli/app.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

class RepoPruneCommand : public Command {
 public:
  std::string name() const override { return "repo prune"; }
  std::string help() const override { return "Delete entries of a cache repo in a registry by policy"; }
  void add_flags(CLI::App& app) override {
    app.add_option("repository", m_repo, "Cache repo, e.g. registry.example.com/team/app/cache")->required();
    m_policy.add(app);
    app.add_flag("--dry-run", m_dry_run, "Show what would be deleted; change nothing");
    app.add_option("--parallel", m_parallel, "Requests in flight at once")->capture_default_str();
    cli::add_registry_flags(app, m_registry);
  }

  Result<int> run(Context& ctx) override {
    auto repo = parse_repo(m_repo);
    if (!repo) return fail(cli::usage_error(repo.error().message()));
    auto policy = TRY(m_policy.policy());
    if (policy.min_free_space) return fail(cli::usage_error("--min-free-space does not apply to a registry"));
    if (!policy.selects_anything()) {
      return fail(cli::usage_error("nothing selected: give --older-than, --keep-last, --max-used-space, --filter or --all"));
    }
    for (auto& f : policy.filters) f.type.reset();  // every remote entry is an image record here
    auto client = TRY(make_client(m_registry));
    auto listing = TRY(list_repo(*client, *repo, m_parallel));
    if (!listing.errors.empty()) {
      // An unreadable tag could be a kept entry naming a digest we would delete: refuse.
      for (const auto& e : listing.errors) ctx.err << "cachectl: cannot read " << e << "\n";
      return fail(ErrorKind::conflict, "some tags of " + repo->name() + " could not be read; nothing deleted");
    }
    auto now = ctx.clock();
    auto snap = to_snapshot(*repo, listing.entries);
    auto graph = prune::CacheGraph::build(snap);
    auto plan = TRY(prune::plan(graph, policy, store::LeaseContents{}, now, std::nullopt));

    std::vector<bool> evicted(listing.entries.size(), false);
    for (const auto& ev : plan.evict) evicted[graph.entries()[ev.entry].record] = true;
    std::map<digest::Digest, std::string> kept_by;  // digest → a kept tag naming it
    for (std::size_t i = 0; i < listing.entries.size(); ++i) {
      if (!evicted[i]) kept_by.emplace(listing.entries[i].digest, listing.entries[i].tag);
    }
    struct Outcome {
      std::string status;  // deleted / would delete / kept / refused / failed
      std::string detail;
    };
    std::map<digest::Digest, Outcome> outcome;
    std::vector<digest::Digest> to_delete;
    for (std::size_t i = 0; i < listing.entries.size(); ++i) {
      if (!evicted[i]) continue;
      const auto& d = listing.entries[i].digest;
      if (outcome.count(d)) continue;
      if (auto k = kept_by.find(d); k != kept_by.end()) {
        outcome[d] = {"kept", "also tagged " + k->second + ", which is kept"};
        continue;
      }
      outcome[d] = {m_dry_run ? "would delete" : "deleted", ""};
      to_delete.push_back(d);
    }
    if (!m_dry_run) {
      std::vector<Result<void>> results(to_delete.size());
      run_parallel(to_delete.size(), m_parallel,
                   [&](std::size_t i) { results[i] = client->delete_manifest(*repo, to_delete[i]); });
      for (std::size_t i = 0; i < to_delete.size(); ++i) {
        if (results[i]) continue;
        const auto& err = results[i].error();
        bool refused = err.kind() == ErrorKind::unsupported || err.kind() == ErrorKind::denied ||
                       err.kind() == ErrorKind::unauthorized;
        std::string detail = err.kind() == ErrorKind::unsupported ? "UNSUPPORTED: " + err.message() : err.message();
        outcome[to_delete[i]] = {refused ? "refused" : "failed", detail};
      }
    }
    std::size_t deleted = 0, refused = 0, kept_shared = 0;
    for (const auto& [d, o] : outcome) {
      if (o.status == "deleted" || o.status == "would delete") ++deleted;
      else if (o.status == "kept") ++kept_shared;
      else ++refused;
    }

    if (ctx.json) {
      nlohmann::json entries = nlohmann::json::array();
      for (const auto& ev : plan.evict) {
        const auto& e = listing.entries[graph.entries()[ev.entry].record];
        auto j = remote_entry_json(e);
        j["reason"] = std::string(prune::to_string(ev.reason));
        j["status"] = outcome[e.digest].status;
        if (!outcome[e.digest].detail.empty()) j["detail"] = outcome[e.digest].detail;
        entries.push_back(std::move(j));
      }
      ctx.out << nlohmann::json{{"repository", repo->name()},
                                {"dry_run", m_dry_run},
                                {"entries", entries},
                                {"manifests_deleted", deleted},
                                {"manifests_refused", refused},
                                {"kept_shared", kept_shared},
                                {"kept", {{"keep_list", plan.kept_by_list}, {"keep_last", plan.kept_by_keep_last}}},
                                {"bytes", plan.bytes},
                                {"used_before", plan.used_before},
                                {"used_after", plan.used_after},
                                {"target_met", plan.target_met}}
                         .dump(2)
              << "\n";
    } else {
      Table t({"TAG", "DIGEST", "SIZE", "CREATED", "REASON", "STATUS"});
      for (const auto& ev : plan.evict) {
        const auto& e = listing.entries[graph.entries()[ev.entry].record];
        const auto& o = outcome[e.digest];
        t.add({e.tag, short_digest(e.digest), util::human_size(e.size), age(now, e.created),
               std::string(prune::to_string(ev.reason)), o.detail.empty() ? o.status : o.status + ": " + o.detail});
      }
      if (!t.empty()) t.print(ctx.out);
      ctx.out << (m_dry_run ? "would delete " : "deleted ") << deleted << " manifests (" << plan.evict.size()
              << " entries), " << refused << " refused by the registry, " << kept_shared
              << " kept (digest still tagged by a kept entry); up to " << util::human_size(plan.bytes)
              << " for the registry's garbage collection\n";
      if (!plan.target_met) ctx.out << "warning: the space target cannot be met with what may be evicted\n";
    }
    for (const auto& [d, o] : outcome) {
      if (o.status == "refused" || o.status == "failed") log::error("deleting " + d.str() + ": " + o.detail);
    }
    return refused == 0 ? 0 : 1;
  }

 private:
  std::string m_repo;
  PolicyFlags m_policy;
  bool m_dry_run = false;
  int m_parallel = 8;
  cli::RegistryFlags m_registry;
};

}  // namespace

std::unique_ptr<Command> make_repo_prune() { return std::make_unique<RepoPruneCommand>(); }

}  // namespace strata::cachectl
