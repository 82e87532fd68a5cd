// cachectl verify [--repair [--refetch]]: re-hashes every blob and checks that every record points
// at a present, correct blob. Exit 1 when problems are found and not repaired.
//
// Repair order (as prune): drop every record that refers to a missing or corrupt blob in one
// write session, then delete the corrupt blobs; with --refetch the images that lost records are
// fetched again from their registries afterwards (a corrupt blob would otherwise be "present").
#include <map>
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "cli/app.hpp"
#include "cli/credentials.hpp"
#include "cli/registry_flags.hpp"
#include "fetch/image_fetcher.hpp"
#include "image/platform.hpp"
#include "image/reference.hpp"
#include "registry/client.hpp"
#include "util/log.hpp"

namespace strata::cachectl {
namespace {

class VerifyCommand : public Command {
 public:
  std::string name() const override { return "verify"; }
  std::string help() const override { return "Re-hash every blob and check the index against them"; }
  void add_flags(CLI::App& app) override {
    app.add_flag("--repair", m_repair, "Drop records of missing/corrupt blobs and delete corrupt blobs");
    app.add_flag("--refetch", m_refetch, "With --repair: fetch affected images again from their registry");
    app.add_flag("--dry-run", m_dry_run, "With --repair: show what would be repaired; change nothing");
    cli::add_registry_flags(app, m_registry);
  }

  Result<int> run(Context& ctx) override {
    if (m_refetch && !m_repair) return fail(cli::usage_error("--refetch needs --repair"));
    auto cache = TRY(open_cache(ctx));
    std::map<digest::Digest, std::string> problems;  // digest → "missing" / "corrupt: ..."
    std::set<digest::Digest> corrupt;
    std::size_t checked = 0;
    for (const auto& d : TRY(cache.blobs().list())) {
      ++checked;
      auto r = cache.blobs().verify(d);
      if (!r) {
        if (r.error().kind() == ErrorKind::not_found) continue;  // pruned while we looked
        problems[d] = "corrupt: " + r.error().message();
        corrupt.insert(d);
      }
    }
    prune::Snapshot snap;
    {
      auto view = TRY(cache.index().read());
      snap = TRY(load_snapshot(view));
    }
    auto graph = prune::CacheGraph::build(snap);
    for (prune::BlobId b = 0; b < graph.blob_count(); ++b) {
      const auto& d = graph.digest(b);
      if (problems.count(d)) continue;
      auto size = cache.blobs().size(d);
      if (!size) {
        problems[d] = "missing (referenced by " + std::to_string(graph.refcounts()[b]) + " entries)";
      } else if (graph.size(b) != 0 && *size != graph.size(b)) {
        problems[d] = "size " + std::to_string(*size) + " differs from the recorded " + std::to_string(graph.size(b));
        corrupt.insert(d);
      }
    }
    // Manifest records must not name missing configs or layers either (index children may be
    // absent: an index names every platform, only some are fetched).
    for (const auto& m : snap.manifests) {
      std::vector<digest::Digest> refs = m.layers;
      if (m.config) refs.push_back(*m.config);
      for (const auto& d : refs) {
        if (!problems.count(d) && !cache.blobs().has(d)) problems[d] = "missing (named by manifest " + m.digest.str() + ")";
      }
    }
    std::set<digest::Digest> bad;
    for (const auto& [d, why] : problems) bad.insert(d);
    std::vector<std::pair<std::string, std::string>> refetch;  // reference, platform
    std::set<std::string> affected;
    for (const auto& d : bad) {
      auto id = graph.find(d);
      if (!id) continue;
      for (auto h : graph.holders(*id)) {
        const auto& e = graph.entries()[h];
        std::string label = std::string(prune::to_string(e.kind)) + " " + e.name;
        if (e.kind == prune::EntryKind::image) {
          label += " (" + snap.images[e.record].platform + ")";
          if (affected.insert(label).second) refetch.emplace_back(e.name, snap.images[e.record].platform);
        } else {
          affected.insert(label);
        }
      }
    }

    std::size_t dropped = 0, removed = 0;
    std::vector<std::string> refetched, refetch_failed;
    bool repaired = false;
    if (m_repair && !bad.empty() && !m_dry_run) {
      {
        auto session = TRY(cache.index().write());
        dropped = TRY(drop_records_referring(session, bad));
        TRY(session.commit());
      }
      for (const auto& d : corrupt) {
        if (cache.blobs().remove(d)) ++removed;
      }
      repaired = true;
      if (m_refetch) TRY(do_refetch(cache, refetch, refetched, refetch_failed));
    }

    if (ctx.json) {
      nlohmann::json p = nlohmann::json::array();
      for (const auto& [d, why] : problems) p.push_back({{"digest", d.str()}, {"problem", why}});
      ctx.out << nlohmann::json{{"blobs_checked", checked},      {"problems", p},
                                {"affected", affected},          {"repaired", repaired},
                                {"records_dropped", dropped},    {"blobs_removed", removed},
                                {"refetched", refetched},        {"refetch_failed", refetch_failed},
                                {"dry_run", m_dry_run}}
                         .dump(2)
              << "\n";
    } else {
      ctx.out << "checked " << checked << " blobs and " << graph.entries().size() << " entries: "
              << problems.size() << " problems\n";
      for (const auto& [d, why] : problems) ctx.out << "  " << d.str() << ": " << why << "\n";
      for (const auto& a : affected) ctx.out << "  affects " << a << "\n";
      if (repaired) {
        ctx.out << "repaired: dropped " << dropped << " entries, removed " << removed << " corrupt blobs\n";
      } else if (m_repair && !bad.empty()) {
        ctx.out << "would drop " << affected.size() << " entries and remove " << corrupt.size() << " corrupt blobs\n";
      }
      for (const auto& r : refetched) ctx.out << "  refetched " << r << "\n";
      for (const auto& r : refetch_failed) ctx.out << "  refetch failed: " << r << "\n";
    }
    if (problems.empty()) return 0;
    return repaired && refetch_failed.empty() ? 0 : 1;
  }

 private:
  Result<void> do_refetch(const store::CacheDir& cache, const std::vector<std::pair<std::string, std::string>>& images,
                          std::vector<std::string>& ok, std::vector<std::string>& failed) {
    if (images.empty()) return {};
    auto options = TRY(cli::registry_options(m_registry));
    auto client = TRY(registry::Client::create(options, TRY(cli::login_lookup())));
    for (const auto& [name, platform] : images) {
      auto ref = image::Reference::parse(name);
      auto plat = image::Platform::parse(platform);
      if (!ref || !plat) {
        failed.push_back(name + " (" + platform + "): cannot parse");
        continue;
      }
      fetch::FetchOptions fo;
      fo.platform = *plat;
      fo.force = true;
      fo.tool = "cachectl";
      fo.show_progress = false;
      fetch::ImageFetcher fetcher(client.get(), cache.blobs(), cache.index(), fo);
      auto r = fetcher.fetch(*ref);
      if (r) {
        ok.push_back(name + " (" + platform + ")");
      } else {
        log::error("refetch of " + name + " failed: " + r.error().message());
        failed.push_back(name + " (" + platform + "): " + r.error().message());
      }
    }
    return {};
  }

  bool m_repair = false;
  bool m_refetch = false;
  bool m_dry_run = false;
  cli::RegistryFlags m_registry;
};

}  // namespace

std::unique_ptr<Command> make_verify() { return std::make_unique<VerifyCommand>(); }

}  // namespace strata::cachectl
