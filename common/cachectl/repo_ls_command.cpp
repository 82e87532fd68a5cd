// cachectl repo ls REPO: the entries (tags) of a cache repo in a registry, with kind, created
// time, size and platform (remote_repo.hpp describes what is read).
#include <algorithm>
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/remote_repo.hpp"
#include "cachectl/support.hpp"
#include "cli/app.hpp"
#include "cli/credentials.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

class RepoLsCommand : public Command {
 public:
  std::string name() const override { return "repo ls"; }
  std::string help() const override { return "List the entries (tags) of a cache repo in a registry"; }
  void add_flags(CLI::App& app) override {
    app.add_option("repository", m_repo, "Cache repo, e.g. registry.example.com/team/app/cache")->required();
    app.add_option("--filter", m_filters, "until=DURATION, ref~=REGEX (on REPO:TAG and step text) (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--sort", m_sort, "name, size (largest first), age (oldest first)")
        ->capture_default_str()
        ->check(CLI::IsMember({"name", "size", "age"}));
    app.add_option("--parallel", m_parallel, "Requests in flight at once")->capture_default_str();
    cli::add_registry_flags(app, m_registry);
  }

  Result<int> run(Context& ctx) override {
    auto repo = parse_repo(m_repo);
    if (!repo) return fail(cli::usage_error(repo.error().message()));
    std::vector<prune::Filter> filters;
    for (const auto& f : m_filters) {
      auto parsed = prune::parse_filter(f);
      if (!parsed) return fail(cli::usage_error("--filter: " + parsed.error().message()));
      filters.push_back(std::move(*parsed));
    }
    auto client = TRY(make_client(m_registry));
    auto listing = TRY(list_repo(*client, *repo, m_parallel));
    auto now = ctx.clock();
    std::vector<const RemoteEntry*> shown;
    for (const auto& e : listing.entries) {
      if (remote_matches(filters, repo->name(), e, now)) shown.push_back(&e);
    }
    std::stable_sort(shown.begin(), shown.end(), [&](const RemoteEntry* a, const RemoteEntry* b) {
      if (m_sort == "size") return a->size > b->size;
      if (m_sort == "age") return a->created < b->created;
      return a->tag < b->tag;
    });
    std::uint64_t total = 0;
    for (const auto* e : shown) total += e->size;

    if (ctx.json) {
      nlohmann::json entries = nlohmann::json::array();
      for (const auto* e : shown) entries.push_back(remote_entry_json(*e));
      ctx.out << nlohmann::json{{"repository", repo->name()},
                                {"entries", entries},
                                {"bytes", total},
                                {"errors", listing.errors}}
                         .dump(2)
              << "\n";
      return listing.errors.empty() ? 0 : 1;
    }
    Table t({"TAG", "KIND", "DIGEST", "SIZE", "CREATED", "PLATFORM", "STEP"});
    for (const auto* e : shown) {
      std::string tag = e->tag.size() > 20 ? e->tag.substr(0, 16) + "..." : e->tag;
      std::string step = e->step.size() > 50 ? e->step.substr(0, 47) + "..." : e->step;
      t.add({tag, std::string(to_string(e->kind)), short_digest(e->digest), util::human_size(e->size),
             age(now, e->created), e->platform, step});
    }
    if (t.empty()) ctx.out << "no entries in " << repo->name() << "\n";
    else t.print(ctx.out);
    ctx.out << shown.size() << " entries, " << util::human_size(total) << " (layers shared between entries count once per entry)\n";
    for (const auto& e : listing.errors) ctx.err << "cachectl: cannot read " << e << "\n";
    return listing.errors.empty() ? 0 : 1;
  }

 private:
  std::string m_repo;
  std::vector<std::string> m_filters;
  std::string m_sort = "name";
  int m_parallel = 8;
  cli::RegistryFlags m_registry;
};

}  // namespace

std::unique_ptr<Command> make_repo_ls() { return std::make_unique<RepoLsCommand>(); }

}  // namespace strata::cachectl
