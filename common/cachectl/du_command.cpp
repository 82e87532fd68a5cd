// cachectl du: where the bytes of a cache dir go, and what a prune with the given policy would
// reclaim (the same planner prune uses, so the two always agree).
#include <sys/stat.h>

#include <filesystem>
#include <ostream>
#include <thread>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "store/file_ops.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

std::uint64_t tree_bytes(const std::string& dir) {
  std::error_code ec;
  std::uint64_t total = 0;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fe;
    if (it->is_regular_file(fe)) total += it->file_size(fe);
  }
  return total;
}

class DuCommand : public Command {
 public:
  std::string name() const override { return "du"; }
  std::string help() const override { return "Show disk usage by kind and what a prune would reclaim"; }
  void add_flags(CLI::App& app) override { m_policy.add(app); }

  Result<int> run(Context& ctx) override {
    auto policy = TRY(m_policy.policy());
    bool default_policy = !policy.selects_anything();
    if (default_policy) policy.all = true;
    auto cache = TRY(open_cache(ctx));
    // The blob files are listed while the index loads: listing 100k+ names is I/O and a share of
    // du's time, and the graph build after the load leaves a core free.
    Result<std::vector<digest::Digest>> files = fail(ErrorKind::internal, "blob listing did not run");
    std::thread lister([&] { files = cache.blobs().list(); });
    prune::Snapshot snap;
    auto loaded = [&]() -> Result<void> {
      auto view = TRY(cache.index().read());
      snap = TRY(load_snapshot(view));
      return {};
    }();
    auto graph = prune::CacheGraph::build(snap);
    lister.join();
    TRY(std::move(loaded));
    auto now = ctx.clock();

    std::vector<std::uint8_t> held(graph.blob_count(), 0);  // bit 0: by an image, bit 1: by a layer entry
    for (const auto& e : graph.entries()) {
      for (auto b : e.blobs) held[b] |= e.kind == prune::EntryKind::image ? 1 : 2;
    }
    std::uint64_t images = 0, layers = 0, shared = 0, unique = 0, unreferenced = 0, blobs_total = 0;
    std::size_t blob_count = 0, unreferenced_count = 0;
    for (const auto& d : TRY(std::move(files))) {
      ++blob_count;
      auto id = graph.find(d);
      std::uint64_t size = id ? graph.size(*id) : 0;
      if (!id || size == 0) size = cache.blobs().size(d).value_or(0);
      blobs_total += size;
      if (!id || graph.refcounts()[*id] == 0) {
        unreferenced += size;
        ++unreferenced_count;
        continue;
      }
      if (held[*id] & 1) images += size;
      if (held[*id] & 2) layers += size;
      (graph.refcounts()[*id] > 1 ? shared : unique) += size;
    }
    std::uint64_t temp = 0;
    std::size_t temp_count = 0;
    if (auto names = store::list_dir(cache.root() + "/ingest")) {
      for (const auto& n : *names) {
        struct stat st {};
        if (::stat((cache.root() + "/ingest/" + n).c_str(), &st) == 0) {
          temp += static_cast<std::uint64_t>(st.st_size);
          ++temp_count;
        }
      }
    }
    std::uint64_t index_bytes = tree_bytes(cache.root() + "/index");
    auto leases = TRY(cache.active_leases());
    std::optional<prune::FsSpace> fs;
    if (policy.min_free_space) fs = TRY(ctx.fs_space(cache.root()));
    auto plan = TRY(prune::plan(graph, policy, leases.in_use, now, fs));
    std::string policy_name = default_policy ? "prune --all" : "prune with the given policy";

    if (ctx.json) {
      ctx.out << nlohmann::json{
                     {"total", blobs_total + temp + index_bytes},
                     {"blobs", {{"count", blob_count}, {"bytes", blobs_total}}},
                     {"images", images},
                     {"layer_cache", layers},
                     {"shared", shared},
                     {"unique", unique},
                     {"unreferenced", {{"count", unreferenced_count}, {"bytes", unreferenced}}},
                     {"temp", {{"count", temp_count}, {"bytes", temp}}},
                     {"index", index_bytes},
                     {"entries", {{"images", snap.images.size()}, {"layers", snap.layers.size()}}},
                     {"reclaimable",
                      {{"policy", policy_name},
                       {"entries", plan.evict.size()},
                       {"blobs", plan.blobs.size()},
                       {"bytes", plan.bytes},
                       {"target_met", plan.target_met}}},
                 }.dump(2)
              << "\n";
      return 0;
    }
    Table t({"KIND", "SIZE", "DETAIL"});
    t.add({"total", util::human_size(blobs_total + temp + index_bytes), std::to_string(blob_count) + " blobs"});
    t.add({"images", util::human_size(images), std::to_string(snap.images.size()) + " entries"});
    t.add({"layer cache", util::human_size(layers), std::to_string(snap.layers.size()) + " entries"});
    t.add({"  shared", util::human_size(shared), "blobs held by several entries"});
    t.add({"  unique", util::human_size(unique), "blobs held by one entry"});
    t.add({"unreferenced", util::human_size(unreferenced), std::to_string(unreferenced_count) + " blobs (cachectl gc)"});
    t.add({"temp files", util::human_size(temp), std::to_string(temp_count) + " in ingest/"});
    t.add({"index", util::human_size(index_bytes), "RocksDB"});
    t.add({"reclaimable", util::human_size(plan.bytes),
           std::to_string(plan.evict.size()) + " entries, " + std::to_string(plan.blobs.size()) + " blobs (" +
               policy_name + ")"});
    t.print(ctx.out);
    return 0;
  }

 private:
  PolicyFlags m_policy;
};

}  // namespace

std::unique_ptr<Command> make_du() { return std::make_unique<DuCommand>(); }

}  // namespace strata::cachectl
