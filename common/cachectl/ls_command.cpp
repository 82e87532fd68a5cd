// cachectl ls: the images and layer-cache entries of a cache dir, filtered and sorted.
#include <algorithm>
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "cli/app.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

class LsCommand : public Command {
 public:
  std::string name() const override { return "ls"; }
  std::string help() const override { return "List cached images and layer-cache entries"; }
  void add_flags(CLI::App& app) override {
    app.add_option("--filter", m_filters, "type=image|layer, until=DURATION, ref~=REGEX (repeatable, ANDed)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--sort", m_sort, "name, size (largest first), age (least recently used first), uses (most first)")
        ->capture_default_str()
        ->check(CLI::IsMember({"name", "size", "age", "uses"}));
  }

  Result<int> run(Context& ctx) override {
    std::vector<prune::Filter> filters;
    for (const auto& f : m_filters) {
      auto parsed = prune::parse_filter(f);
      if (!parsed) return fail(cli::usage_error("--filter: " + parsed.error().message()));
      filters.push_back(std::move(*parsed));
    }
    auto cache = TRY(open_cache(ctx));
    prune::Snapshot snap;
    {
      // ls shows the entries' own figures: manifest and blob records are not needed.
      auto view = TRY(cache.index().read());
      snap.images = TRY(view.images());
      snap.layers = TRY(view.layer_cache_entries());
    }
    auto graph = prune::CacheGraph::build(snap);
    auto now = ctx.clock();
    std::vector<const prune::Entry*> shown;
    for (const auto& e : graph.entries()) {
      if (prune::matches_all(filters, graph, e, now)) shown.push_back(&e);
    }
    std::stable_sort(shown.begin(), shown.end(), [&](const prune::Entry* a, const prune::Entry* b) {
      if (m_sort == "size") return a->size > b->size;
      if (m_sort == "age") return a->last_used < b->last_used;
      if (m_sort == "uses") return a->uses > b->uses;
      return a->name < b->name;
    });

    if (ctx.json) {  // streamed: a document of 100k entries cost more than reading the index
      util::JsonWriter w(ctx.out);
      w.begin_object();
      for (auto kind : {prune::EntryKind::image, prune::EntryKind::layer}) {
        w.key(kind == prune::EntryKind::image ? "images" : "layers").begin_array();
        for (const auto* e : shown) {
          if (e->kind != kind) continue;
          w.begin_object();
          write_entry_fields(w, graph, *e);
          w.end_object();
        }
        w.end_array();
      }
      w.end_object().finish();
      return 0;
    }
    Table images({"REFERENCE", "PLATFORM", "DIGEST", "SIZE", "FETCHED", "LAST USED", "USES"});
    Table layers({"KEY", "SIZE", "CREATED", "LAST USED", "HITS", "STEP"});
    for (const auto* e : shown) {
      if (e->kind == prune::EntryKind::image) {
        const auto& r = snap.images[e->record];
        images.add({r.reference, r.platform, short_digest(r.top_digest()), util::human_size(r.total_size),
                    age(now, r.fetched), age(now, r.last_used), std::to_string(r.use_count)});
      } else {
        const auto& r = snap.layers[e->record];
        std::string step = r.step.size() > 60 ? r.step.substr(0, 57) + "..." : r.step;
        layers.add({r.key.substr(0, 16), util::human_size(r.size), age(now, r.created), age(now, r.last_used),
                    std::to_string(r.hits), step});
      }
    }
    bool want_images = !images.empty(), want_layers = !layers.empty();
    if (!want_images && !want_layers) {
      ctx.out << "no entries\n";
      return 0;
    }
    if (want_images) images.print(ctx.out);
    if (want_images && want_layers) ctx.out << "\n";
    if (want_layers) layers.print(ctx.out);
    return 0;
  }

 private:
  std::vector<std::string> m_filters;
  std::string m_sort = "name";
};

}  // namespace

std::unique_ptr<Command> make_ls() { return std::make_unique<LsCommand>(); }

}  // namespace strata::cachectl
