// cachectl inspect REF|DIGEST|KEY: everything the index knows about one entry (or blob), its
// blobs with their presence on disk, and which other entries share them.
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "cli/app.hpp"
#include "image/reference.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

class InspectCommand : public Command {
 public:
  std::string name() const override { return "inspect"; }
  std::string help() const override { return "Show one entry (image reference, digest or cache key) in detail"; }
  void add_flags(CLI::App& app) override {
    app.add_option("target", m_target, "Image reference, digest (sha256:...) or layer-cache key")->required();
  }

  Result<int> run(Context& ctx) override {
    auto cache = TRY(open_cache(ctx));
    prune::Snapshot snap;
    {
      auto view = TRY(cache.index().read());
      snap = TRY(load_snapshot(view));
    }
    auto graph = prune::CacheGraph::build(snap);

    // Which entries the target names.
    std::vector<std::size_t> selected;
    std::optional<prune::BlobId> target_blob;
    auto parsed_digest = m_target.find(':') != std::string::npos ? digest::Digest::parse(m_target)
                                                                 : Result<digest::Digest>(fail(ErrorKind::invalid_argument, ""));
    std::string ref_name;
    if (auto ref = image::Reference::parse(m_target)) ref_name = ref->str();
    for (std::size_t i = 0; i < graph.entries().size(); ++i) {
      const auto& e = graph.entries()[i];
      if (e.kind == prune::EntryKind::layer && e.name == m_target) selected.push_back(i);
      if (e.kind == prune::EntryKind::image && !ref_name.empty() && e.name == ref_name) selected.push_back(i);
    }
    if (parsed_digest) {
      target_blob = graph.find(*parsed_digest);
      if (target_blob) {
        for (auto h : graph.holders(*target_blob)) {
          const auto& e = graph.entries()[h];
          bool top = e.kind == prune::EntryKind::image ? (snap.images[e.record].top_digest() == *parsed_digest ||
                                                          snap.images[e.record].manifest == *parsed_digest)
                                                       : snap.layers[e.record].manifest == *parsed_digest;
          if (top) selected.push_back(h);
        }
      }
    }
    if (selected.empty() && !target_blob) {
      return fail(ErrorKind::not_found, "'" + m_target + "' names no image, digest or cache key in " + ctx.cache_dir);
    }

    auto blob_json = [&](prune::BlobId b) {
      const auto& d = graph.digest(b);
      nlohmann::json j{{"digest", d.str()}, {"size", graph.size(b)}, {"present", cache.blobs().has(d)},
                       {"holders", graph.refcounts()[b]}};
      for (const auto& m : snap.manifests) {
        if (m.digest == d) j["kind"] = m.kind == store::ManifestKind::index ? "index" : "manifest", j["media_type"] = m.media_type;
      }
      for (const auto& r : snap.blobs) {
        if (r.digest == d) j["media_type"] = r.media_type, j["uses"] = r.use_count, j["last_used"] = rfc3339(r.last_used);
      }
      return j;
    };
    nlohmann::json doc{{"target", m_target}, {"entries", nlohmann::json::array()}};
    for (auto i : selected) {
      const auto& e = graph.entries()[i];
      auto j = entry_json(graph, e);
      j["blobs"] = nlohmann::json::array();
      std::set<std::size_t> sharing;
      for (auto b : e.blobs) {
        j["blobs"].push_back(blob_json(b));
        for (auto h : graph.holders(b)) {
          if (h != i) sharing.insert(h);
        }
      }
      j["shared_with"] = nlohmann::json::array();
      for (auto h : sharing) {
        const auto& o = graph.entries()[h];
        j["shared_with"].push_back({{"type", std::string(prune::to_string(o.kind))}, {"name", o.name}});
      }
      doc["entries"].push_back(std::move(j));
    }
    if (target_blob && selected.empty()) {
      doc["blob"] = blob_json(*target_blob);
      doc["blob"]["held_by"] = nlohmann::json::array();
      for (auto h : graph.holders(*target_blob)) {
        const auto& o = graph.entries()[h];
        doc["blob"]["held_by"].push_back({{"type", std::string(prune::to_string(o.kind))}, {"name", o.name}});
      }
    }
    if (ctx.json) {
      ctx.out << doc.dump(2) << "\n";
      return 0;
    }
    auto print_fields = [&](const nlohmann::json& j, const std::string& indent) {
      for (const auto& [k, v] : j.items()) {
        if (v.is_array() || v.is_object()) continue;
        std::string value = v.is_string() ? v.get<std::string>() : v.dump();
        if ((k == "size") && v.is_number()) value = util::human_size(v.get<std::uint64_t>()) + " (" + v.dump() + ")";
        ctx.out << indent << k << ": " << value << "\n";
      }
    };
    if (doc.contains("blob")) {
      ctx.out << "blob\n";
      print_fields(doc["blob"], "  ");
      ctx.out << "  held by:\n";
      for (const auto& h : doc["blob"]["held_by"]) ctx.out << "    " << h["type"].get<std::string>() << " " << h["name"].get<std::string>() << "\n";
    }
    for (const auto& j : doc["entries"]) {
      ctx.out << j["type"].get<std::string>() << "\n";
      print_fields(j, "  ");
      ctx.out << "  blobs:\n";
      for (const auto& b : j["blobs"]) {
        ctx.out << "    " << b["digest"].get<std::string>() << "  " << util::human_size(b["size"].get<std::uint64_t>())
                << (b["present"].get<bool>() ? "" : "  MISSING") << "  held by " << b["holders"].dump() << "\n";
      }
      ctx.out << "  shared with:" << (j["shared_with"].empty() ? " none" : "") << "\n";
      for (const auto& h : j["shared_with"]) ctx.out << "    " << h["type"].get<std::string>() << " " << h["name"].get<std::string>() << "\n";
    }
    return 0;
  }

 private:
  std::string m_target;
};

}  // namespace

std::unique_ptr<Command> make_inspect() { return std::make_unique<InspectCommand>(); }

}  // namespace strata::cachectl
