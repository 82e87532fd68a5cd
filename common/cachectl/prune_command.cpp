// cachectl prune: evicts entries by policy (prune/policy.hpp) and deletes the blobs nothing else
// holds. Order (crash safety, docs/cachectl.md): plan and delete records in one write session, so
// no writer can slip a new record in between; commit; then unlink blobs outside the session. A
// kill after the commit leaves only unreferenced blobs, which gc removes.
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "cli/app.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

class PruneCommand : public Command {
 public:
  std::string name() const override { return "prune"; }
  std::string help() const override { return "Remove entries by policy, and the blobs only they held"; }
  void add_flags(CLI::App& app) override {
    m_policy.add(app);
    app.add_flag("--dry-run", m_dry_run, "Show what would be removed; change nothing");
  }

  Result<int> run(Context& ctx) override {
    auto policy = TRY(m_policy.policy());
    if (!policy.selects_anything()) {
      return fail(cli::usage_error(
          "nothing selected: give --older-than, --max-used-space, --min-free-space, --keep-last, --filter or --all"));
    }
    auto cache = TRY(open_cache(ctx));
    auto leases = TRY(cache.active_leases());
    std::optional<prune::FsSpace> fs;
    if (policy.min_free_space) fs = TRY(ctx.fs_space(cache.root()));
    auto now = ctx.clock();

    prune::Snapshot snap;
    std::optional<prune::CacheGraph> graph;
    prune::Plan plan;
    std::vector<digest::Digest> digests;
    std::vector<std::uint64_t> sizes;
    auto make_plan = [&](const store::IndexView& view) -> Result<void> {
      snap = TRY(load_snapshot(view));
      graph = prune::CacheGraph::build(snap);
      plan = TRY(prune::plan(*graph, policy, leases.in_use, now, fs));
      for (auto b : plan.blobs) {
        digests.push_back(graph->digest(b));
        sizes.push_back(graph->size(b));
      }
      return {};
    };
    if (m_dry_run) {
      auto view = TRY(cache.index().read());
      TRY(make_plan(view));
    } else {
      auto session = TRY(cache.index().write());
      TRY(make_plan(session));
      for (const auto& ev : plan.evict) {
        const auto& e = graph->entries()[ev.entry];
        if (e.kind == prune::EntryKind::image) {
          const auto& r = snap.images[e.record];
          TRY(session.delete_image(r.reference, r.platform));
        } else {
          TRY(session.delete_layer_cache(snap.layers[e.record].key));
        }
      }
      for (const auto& d : digests) {
        TRY(session.delete_manifest(d));
        TRY(session.delete_blob(d));
      }
      TRY(session.commit());
    }
    BlobRemoval removal;
    if (!m_dry_run) removal = TRY(remove_blobs(cache, digests, sizes));

    if (ctx.json) {  // streamed, like ls: a prune may list many thousands of entries
      util::JsonWriter w(ctx.out);
      w.begin_object().member("dry_run", m_dry_run).key("removed").begin_array();
      for (const auto& ev : plan.evict) {
        w.begin_object();
        write_entry_fields(w, *graph, graph->entries()[ev.entry]);
        w.member("reason", prune::to_string(ev.reason)).end_object();
      }
      w.end_array().key("blobs").begin_array();
      for (const auto& d : digests) w.value(d.str());
      w.end_array();
      w.member("bytes", plan.bytes).member("used_before", plan.used_before).member("used_after", plan.used_after);
      w.member("target_met", plan.target_met);
      w.key("kept").begin_object().member("keep_list", plan.kept_by_list).member("leased", plan.kept_by_lease);
      w.member("keep_last", plan.kept_by_keep_last).end_object();
      w.member("blobs_kept_leased", removal.kept_leased).key("errors").begin_array();
      for (const auto& e : removal.errors) w.value(e);
      w.end_array().end_object().finish();
    } else {
      Table t({"TYPE", "NAME", "SIZE", "LAST USED", "REASON"});
      for (const auto& ev : plan.evict) {
        const auto& e = graph->entries()[ev.entry];
        std::string name = e.kind == prune::EntryKind::image ? e.name + " (" + snap.images[e.record].platform + ")"
                                                             : e.name.substr(0, 16) + " " + snap.layers[e.record].step;
        t.add({std::string(prune::to_string(e.kind)), name, util::human_size(e.size), age(now, e.last_used),
               std::string(prune::to_string(ev.reason))});
      }
      if (!t.empty()) t.print(ctx.out);
      ctx.out << (m_dry_run ? "would remove " : "removed ") << plan.evict.size() << " entries and "
              << digests.size() << " blobs, " << util::human_size(plan.bytes) << " reclaimed; kept "
              << plan.kept_by_lease << " leased, " << plan.kept_by_list << " on the keep list, "
              << plan.kept_by_keep_last << " by --keep-last\n";
      if (!plan.target_met) ctx.out << "warning: the space target cannot be met with what may be evicted\n";
    }
    for (const auto& e : removal.errors) log::error(e);
    return removal.errors.empty() ? 0 : 1;
  }

 private:
  PolicyFlags m_policy;
  bool m_dry_run = false;
};

}  // namespace

std::unique_ptr<Command> make_prune() { return std::make_unique<PruneCommand>(); }

}  // namespace strata::cachectl
