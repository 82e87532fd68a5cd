// cachectl reindex: rebuilds the index from the blobs alone (store/reindex.hpp). Use counts,
// last-used times, layer-cache entries and stats are lost.
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"

namespace strata::cachectl {
namespace {

class ReindexCommand : public Command {
 public:
  std::string name() const override { return "reindex"; }
  std::string help() const override { return "Rebuild the index from the blobs (loses use counts and layer cache)"; }
  void add_flags(CLI::App& app) override {
    app.add_flag("--dry-run", m_dry_run, "Only show what the index holds now; change nothing");
  }

  Result<int> run(Context& ctx) override {
    auto cache = TRY(open_cache(ctx));
    if (m_dry_run) {
      auto view = TRY(cache.index().read());
      auto snap = TRY(load_snapshot(view));
      auto blobs = TRY(cache.blobs().list());
      if (ctx.json) {
        ctx.out << nlohmann::json{{"dry_run", true}, {"blobs_on_disk", blobs.size()}, {"images", snap.images.size()},
                                  {"manifests", snap.manifests.size()}, {"layers", snap.layers.size()}}
                       .dump(2)
                << "\n";
      } else {
        ctx.out << "would rebuild the index from " << blobs.size() << " blobs (now: " << snap.images.size()
                << " images, " << snap.manifests.size() << " manifests, " << snap.layers.size()
                << " layer-cache entries, which would be lost)\n";
      }
      return 0;
    }
    auto report = TRY(cache.reindex());
    if (ctx.json) {
      ctx.out << nlohmann::json{{"blobs", report.blobs},   {"manifests", report.manifests}, {"indexes", report.indexes},
                                {"images", report.images}, {"warnings", report.warnings}}
                     .dump(2)
              << "\n";
    } else {
      ctx.out << "reindexed " << report.blobs << " blobs: " << report.manifests << " manifests, " << report.indexes
              << " indexes, " << report.images << " images\n";
      for (const auto& w : report.warnings) ctx.out << "  warning: " << w << "\n";
    }
    return 0;
  }

 private:
  bool m_dry_run = false;
};

}  // namespace

std::unique_ptr<Command> make_reindex() { return std::make_unique<ReindexCommand>(); }

}  // namespace strata::cachectl
