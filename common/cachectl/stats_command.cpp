// cachectl stats: the per-tool counters the warmer and executors keep in the index (hits, misses,
// bytes served/fetched), counted since the last `--reset`.
//
// The index only adds to counters, so a reset records a baseline instead of zeroing: for each
// counter (tool, name) a counter ("baseline:" + tool, name) is raised to the current value, and
// ("cachectl", "stats_reset_ms") holds the reset time. Shown values are value - baseline. A reset
// is one write session, so it is atomic with respect to concurrent increments.
#include <map>
#include <ostream>

#include "cachectl/command.hpp"
#include "cachectl/support.hpp"
#include "util/units.hpp"

namespace strata::cachectl {
namespace {

constexpr std::string_view k_baseline_prefix = "baseline:";
constexpr std::string_view k_reset_tool = "cachectl";
constexpr std::string_view k_reset_name = "stats_reset_ms";

bool is_internal(const store::StatCounter& c) {
  return c.tool.rfind(k_baseline_prefix, 0) == 0 || (c.tool == k_reset_tool && c.name == k_reset_name);
}

class StatsCommand : public Command {
 public:
  std::string name() const override { return "stats"; }
  std::string help() const override { return "Show cache hits, misses and bytes per tool (--reset to restart)"; }
  void add_flags(CLI::App& app) override {
    app.add_flag("--reset", m_reset, "Restart counting from zero (after printing the current values)");
    app.add_flag("--dry-run", m_dry_run, "With --reset: show what would be reset; change nothing");
  }

  Result<int> run(Context& ctx) override {
    auto cache = TRY(open_cache(ctx));
    std::vector<store::StatCounter> counters;
    std::uint64_t reset_ms = 0;
    std::map<std::pair<std::string, std::string>, std::uint64_t> baseline;
    auto read = [&](const store::IndexView& view) -> Result<void> {
      counters = TRY(view.stats());
      for (const auto& c : counters) {
        if (c.tool.rfind(k_baseline_prefix, 0) == 0) baseline[{c.tool.substr(k_baseline_prefix.size()), c.name}] = c.value;
        if (c.tool == k_reset_tool && c.name == k_reset_name) reset_ms = c.value;
      }
      return {};
    };
    if (m_reset && !m_dry_run) {
      auto session = TRY(cache.index().write());
      TRY(read(session));
      for (const auto& c : counters) {
        if (is_internal(c)) continue;
        std::uint64_t base = baseline[{c.tool, c.name}];
        if (c.value > base) TRY(session.add_stat(std::string(k_baseline_prefix) + c.tool, c.name, c.value - base));
      }
      std::uint64_t now_ms = static_cast<std::uint64_t>(store::to_unix_ms(ctx.clock()));
      if (now_ms > reset_ms) TRY(session.add_stat(k_reset_tool, k_reset_name, now_ms - reset_ms));
      TRY(session.commit());
    } else {
      auto view = TRY(cache.index().read());
      TRY(read(view));
    }

    std::map<std::string, std::map<std::string, std::uint64_t>> by_tool;
    for (const auto& c : counters) {
      if (is_internal(c)) continue;
      std::uint64_t base = baseline[{c.tool, c.name}];
      by_tool[c.tool][c.name] = c.value > base ? c.value - base : 0;
    }
    auto since = reset_ms ? rfc3339(store::from_unix_ms(static_cast<std::int64_t>(reset_ms))) : std::string();
    if (ctx.json) {
      nlohmann::json tools = nlohmann::json::object();
      for (const auto& [tool, names] : by_tool) {
        for (const auto& [n, v] : names) tools[tool][n] = v;
      }
      ctx.out << nlohmann::json{{"since", since}, {"tools", tools}, {"reset", m_reset && !m_dry_run}}.dump(2) << "\n";
      return 0;
    }
    ctx.out << "since " << (since.empty() ? "the cache was created" : since) << "\n";
    Table t({"TOOL", "HITS", "MISSES", "HIT RATE", "BYTES SERVED", "BYTES FETCHED", "OTHER"});
    for (const auto& [tool, counters] : by_tool) {
      const auto& names = counters;  // clang 14 cannot capture structured bindings
      auto get = [&names](const char* n) { auto it = names.find(n); return it == names.end() ? std::uint64_t{0} : it->second; };
      std::uint64_t hits = get("hits"), misses = get("misses");
      std::string rate = hits + misses ? std::to_string(hits * 100 / (hits + misses)) + "%" : "-";
      std::string other;
      for (const auto& [n, v] : names) {
        if (n != "hits" && n != "misses" && n != "bytes_served" && n != "bytes_fetched") other += n + "=" + std::to_string(v) + " ";
      }
      t.add({tool, std::to_string(hits), std::to_string(misses), rate, util::human_size(get("bytes_served")),
             util::human_size(get("bytes_fetched")), other});
    }
    if (t.empty()) ctx.out << "no counters\n";
    else t.print(ctx.out);
    if (m_reset) ctx.out << (m_dry_run ? "would reset the counters\n" : "counters reset\n");
    return 0;
  }

 private:
  bool m_reset = false;
  bool m_dry_run = false;
};

}  // namespace

std::unique_ptr<Command> make_stats() { return std::make_unique<StatsCommand>(); }

}  // namespace strata::cachectl
