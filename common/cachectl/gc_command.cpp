// cachectl gc: removes what nothing references: blobs no entry holds (and their manifest/blob
// records), temp files of dead writers, and stale leases.
//
// A blob is only collected once it is older than --grace: a warmer commits blobs minutes before
// it records the image that holds them, so a young unreferenced blob is likely in use. Temp files
// are collected only when their writer's flock is gone and they are older than --grace too.
#include <sys/stat.h>

#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "cli/app.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

class GcCommand : public Command {
 public:
  std::string name() const override { return "gc"; }
  std::string help() const override { return "Remove unreferenced blobs, dead writers' temp files and stale leases"; }
  void add_flags(CLI::App& app) override {
    app.add_option("--grace", m_grace, "Leave blobs and temp files younger than this alone (writers may be running)")
        ->capture_default_str();
    app.add_flag("--dry-run", m_dry_run, "Show what would be removed; change nothing");
  }

  Result<int> run(Context& ctx) override {
    auto grace = util::parse_duration(m_grace);
    if (!grace) return fail(cli::usage_error("--grace: " + grace.error().message()));
    auto cache = TRY(open_cache(ctx));
    auto now = ctx.clock();
    // Also removes stale lease files (their owners are dead); harmless in a dry run.
    auto leases = TRY(cache.active_leases());

    std::vector<digest::Digest> digests;
    std::vector<std::uint64_t> sizes;
    std::size_t records = 0;
    auto select = [&](const store::IndexView& view, store::WriteSession* session) -> Result<void> {
      auto snap = TRY(load_snapshot(view));
      auto graph = prune::CacheGraph::build(snap);
      auto leased = graph.closure(leases.in_use.digests);
      auto young = [&](const digest::Digest& d) {
        struct stat st {};
        if (::stat(cache.blobs().path(d).c_str(), &st) != 0) return false;
        auto mtime = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
        return now - mtime < *grace;
      };
      std::set<digest::Digest> chosen;
      for (const auto& d : TRY(cache.blobs().list())) {
        auto id = graph.find(d);
        if (id && graph.refcounts()[*id] > 0) continue;
        if (leased.count(d) || young(d)) continue;
        chosen.insert(d);
        digests.push_back(d);
        sizes.push_back(id && graph.size(*id) ? graph.size(*id) : cache.blobs().size(d).value_or(0));
      }
      // Records of unheld blobs: dropped with the blob (or alone when the blob is already gone).
      for (prune::BlobId b = 0; b < graph.blob_count(); ++b) {
        const auto& d = graph.digest(b);
        if (graph.refcounts()[b] > 0 || leased.count(d)) continue;
        bool present = cache.blobs().has(d);
        if (present && !chosen.count(d)) continue;
        ++records;
        if (session) {
          TRY(session->delete_manifest(d));
          TRY(session->delete_blob(d));
        }
      }
      return {};
    };
    if (m_dry_run) {
      auto view = TRY(cache.index().read());
      TRY(select(view, nullptr));
    } else {
      auto session = TRY(cache.index().write());
      TRY(select(session, &session));
      TRY(session.commit());
    }
    BlobRemoval removal;
    if (!m_dry_run) removal = TRY(remove_blobs(cache, digests, sizes));

    std::uint64_t temp_bytes = 0;
    std::size_t temps = 0;
    for (const auto& s : TRY(cache.blobs().list_stale_ingests(*grace))) {
      if (!m_dry_run && !TRY(cache.blobs().remove_stale_ingest(s.path))) continue;
      ++temps;
      temp_bytes += s.size;
    }
    std::uint64_t blob_bytes = 0;
    for (auto s : sizes) blob_bytes += s;

    if (ctx.json) {
      nlohmann::json blobs = nlohmann::json::array();
      for (const auto& d : digests) blobs.push_back(d.str());
      ctx.out << nlohmann::json{{"dry_run", m_dry_run},        {"blobs", blobs},
                                {"blob_bytes", blob_bytes},    {"records", records},
                                {"temp_files", temps},         {"temp_bytes", temp_bytes},
                                {"stale_leases", leases.removed}, {"live_leases", leases.live},
                                {"blobs_kept_leased", removal.kept_leased}, {"errors", removal.errors}}
                         .dump(2)
              << "\n";
    } else {
      const char* verb = m_dry_run ? "would remove " : "removed ";
      ctx.out << verb << digests.size() << " unreferenced blobs (" << util::human_size(blob_bytes) << "), "
              << records << " orphan records, " << temps << " temp files (" << util::human_size(temp_bytes)
              << "); " << leases.removed << " stale leases removed, " << leases.live << " live\n";
    }
    for (const auto& e : removal.errors) log::error(e);
    return removal.errors.empty() ? 0 : 1;
  }

 private:
  std::string m_grace = "1h";
  bool m_dry_run = false;
};

}  // namespace

std::unique_ptr<Command> make_gc() { return std::make_unique<GcCommand>(); }

}  // namespace strata::cachectl
