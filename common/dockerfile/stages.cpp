#include "dockerfile/stages.hpp"

#include <algorithm>

#include "dockerfile/go_text.hpp"

namespace strata::dockerfile {
namespace {

using Scope = std::map<std::string, std::string, std::less<>>;

Lookup scope_lookup(const Scope& scope) {
  return [&scope](std::string_view name) -> std::optional<std::string> {
    auto it = scope.find(name);
    if (it == scope.end()) return std::nullopt;
    return it->second;
  };
}

std::optional<std::string> ask(const Lookup& lookup, std::string_view name) {
  if (!lookup) return std::nullopt;
  return lookup(name);
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class GraphBuilder {
 public:
  GraphBuilder(const Dockerfile& df, const StageGraphOptions& options) : m_df(df), m_options(options) {}

  Result<StageGraph> run();

 private:
  tl::unexpected<Error> fail(int line, std::string_view message) const {
    return tl::unexpected(located_error(m_df.filename, line, message));
  }
  Result<std::string> expand(std::string_view word, const Lookup& lookup, int line, std::string_view what) const {
    auto r = expand_word(word, lookup, m_df.escape);
    if (!r) return fail(line, std::string(what) + ": " + r.error().message());
    return std::move(r->value);
  }
  Result<void> resolve_globals();
  Result<void> resolve_stage(std::size_t index);
  // Records a --from reference made by the stage `index` at `line`.
  Result<void> add_reference(std::size_t index, const std::string& value, DependencyKind kind, int line,
                             std::string_view what);
  Result<void> check_cycles() const;

  const Dockerfile& m_df;
  const StageGraphOptions& m_options;
  Scope m_globals;
  std::vector<std::string> m_declared_globals;
  StageGraph m_graph;
};

Result<void> GraphBuilder::resolve_globals() {
  for (const Instruction& instr : m_df.meta_args) {
    for (const ArgDecl& decl : instr.as<ArgInstr>()->args) {
      m_declared_globals.push_back(decl.name);
      if (auto given = ask(m_options.build_args, decl.name)) {
        m_globals[decl.name] = *given;
      } else if (decl.default_value) {
        Lookup lookup = [this](std::string_view name) -> std::optional<std::string> {
          auto it = m_globals.find(name);
          if (it != m_globals.end()) return it->second;
          return ask(m_options.automatic_args, name);
        };
        m_globals[decl.name] = TRY(expand(*decl.default_value, lookup, instr.line, "ARG " + decl.name));
      } else {
        m_globals.erase(decl.name);
      }
    }
  }
  return {};
}

Result<void> GraphBuilder::add_reference(std::size_t index, const std::string& value, DependencyKind kind, int line,
                                         std::string_view what) {
  StageNode& node = m_graph.stages[index];
  if (value.empty()) return fail(line, std::string(what) + " is empty after expansion");
  std::optional<std::size_t> target;
  if (all_digits(value)) {
    std::size_t n = std::stoul(value);
    if (n >= m_df.stages.size())
      return fail(line, std::string(what) + "=" + value + ": invalid stage index " + value + " (the Dockerfile has " +
                            std::to_string(m_df.stages.size()) + " stages)");
    target = n;
  } else {
    target = find_stage(m_df, value);
  }
  if (!target) {
    node.images.push_back(value);
    return {};
  }
  const Stage& ref = m_df.stages[*target];
  std::string label = ref.from.stage_name.empty() ? "stage " + std::to_string(*target)
                                                  : "stage " + detail::go_quote(ref.from.stage_name);
  if (*target == index)
    return fail(line, "circular dependency: " + std::string(what) + "=" + value + " refers to its own " + label);
  if (*target > index)
    return fail(line, std::string(what) + "=" + value + " refers to " + label + ", defined later (line " +
                          std::to_string(ref.line) + "); only earlier stages can be used");
  node.deps.push_back(StageDependency{*target, kind, line});
  return {};
}

Result<void> GraphBuilder::resolve_stage(std::size_t index) {
  const Stage& stage = m_df.stages[index];
  StageNode node;
  node.index = index;
  node.name = stage.from.stage_name;

  Lookup from_lookup = [this](std::string_view name) -> std::optional<std::string> {
    auto it = m_globals.find(name);
    if (it != m_globals.end()) return it->second;
    if (std::find(m_declared_globals.begin(), m_declared_globals.end(), name) != m_declared_globals.end())
      return std::nullopt;
    return ask(m_options.automatic_args, name);
  };
  node.base = TRY(expand(stage.from.base, from_lookup, stage.line, "FROM " + stage.from.base));
  if (node.base.empty()) return fail(stage.line, "FROM " + stage.from.base + ": base name is empty after expansion");
  if (!stage.from.platform.empty())
    node.platform = TRY(expand(stage.from.platform, from_lookup, stage.line, "FROM --platform=" + stage.from.platform));
  if (detail::iequals(node.base, "scratch")) {
    node.scratch = true;
  } else {
    std::string lower = detail::to_lower(node.base);
    for (std::size_t i = 0; i < index; ++i) {
      if (!m_df.stages[i].from.stage_name.empty() && m_df.stages[i].from.stage_name == lower) {
        node.base_stage = i;
        node.deps.push_back(StageDependency{i, DependencyKind::base, stage.line});
        break;
      }
    }
  }
  m_graph.stages.push_back(std::move(node));

  Scope scope;
  Lookup lookup = scope_lookup(scope);
  for (std::size_t c = 0; c < stage.commands.size(); ++c) {
    const Instruction& instr = stage.commands[c];
    if (const auto* arg = instr.as<ArgInstr>()) {
      for (const ArgDecl& decl : arg->args) {
        if (auto given = ask(m_options.build_args, decl.name)) {
          scope[decl.name] = *given;
        } else if (decl.default_value) {
          scope[decl.name] = TRY(expand(*decl.default_value, lookup, instr.line, "ARG " + decl.name));
        } else if (auto global = m_globals.find(decl.name); global != m_globals.end()) {
          scope[decl.name] = global->second;
        } else if (auto automatic = ask(m_options.automatic_args, decl.name)) {
          scope[decl.name] = *automatic;
        } else {
          scope.erase(decl.name);
        }
      }
    } else if (const auto* copy = instr.as<CopyInstr>(); copy && !copy->from.empty()) {
      std::string value = TRY(expand(copy->from, lookup, instr.line, "COPY --from=" + copy->from));
      TRY(add_reference(index, value, DependencyKind::copy_from, instr.line, "COPY --from"));
      m_graph.stages[index].copy_from[c] = value;
    } else if (const auto* run = instr.as<RunInstr>()) {
      for (const Mount& mount : run->mounts) {
        if (mount.from.empty()) continue;
        std::string value = TRY(expand(mount.from, lookup, instr.line, "RUN --mount from=" + mount.from));
        TRY(add_reference(index, value, DependencyKind::mount_from, instr.line, "RUN --mount from"));
      }
    }
  }
  return {};
}

// Forward references are rejected above, so a cycle cannot form; this guards the invariant that
// the executor relies on (a topological order exists) should the rules ever be relaxed.
Result<void> GraphBuilder::check_cycles() const {
  std::vector<int> state(m_graph.stages.size(), 0);  // 0 new, 1 on stack, 2 done
  for (std::size_t root = 0; root < m_graph.stages.size(); ++root) {
    if (state[root]) continue;
    std::vector<std::pair<std::size_t, std::size_t>> stack{{root, 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const auto& deps = m_graph.stages[node].deps;
      if (next == deps.size()) {
        state[node] = 2;
        stack.pop_back();
        continue;
      }
      std::size_t dep = deps[next++].stage;
      if (state[dep] == 1)
        return fail(m_df.stages[dep].line, "circular dependency detected on stage " + std::to_string(dep));
      if (state[dep] == 0) {
        state[dep] = 1;
        stack.emplace_back(dep, 0);
      }
    }
  }
  return {};
}

Result<StageGraph> GraphBuilder::run() {
  if (m_df.stages.empty()) return fail(0, "no FROM instruction: the Dockerfile contains no stages to build");
  TRY(resolve_globals());
  for (std::size_t i = 0; i < m_df.stages.size(); ++i) TRY(resolve_stage(i));
  TRY(check_cycles());

  if (m_options.target.empty()) {
    m_graph.target = m_df.stages.size() - 1;
  } else {
    std::string wanted = detail::to_lower(m_options.target);
    auto it = std::find_if(m_df.stages.begin(), m_df.stages.end(),
                           [&](const Stage& s) { return s.from.stage_name == wanted; });
    if (it == m_df.stages.end()) {
      std::string message = "target stage " + detail::go_quote(m_options.target) + " could not be found";
      std::vector<std::string> names;
      for (const Stage& s : m_df.stages)
        if (!s.from.stage_name.empty()) names.push_back(s.from.stage_name);
      if (!names.empty()) {
        message += " (stages:";
        for (const auto& n : names) message += " " + n;
        message += ")";
      }
      return fail(0, message);
    }
    m_graph.target = static_cast<std::size_t>(it - m_df.stages.begin());
  }

  std::vector<bool> needed(m_graph.stages.size(), false);
  std::vector<std::size_t> work{m_graph.target};
  needed[m_graph.target] = true;
  while (!work.empty()) {
    std::size_t s = work.back();
    work.pop_back();
    for (const StageDependency& dep : m_graph.stages[s].deps) {
      if (!needed[dep.stage]) {
        needed[dep.stage] = true;
        work.push_back(dep.stage);
      }
    }
  }
  for (std::size_t i = 0; i < needed.size(); ++i)
    if (needed[i]) m_graph.needed.push_back(i);
  for (const auto& [k, v] : m_globals) m_graph.global_args.emplace(k, v);
  return std::move(m_graph);
}

}  // namespace

std::optional<std::size_t> find_stage(const Dockerfile& dockerfile, std::string_view name_or_index) {
  if (all_digits(name_or_index)) {
    std::size_t n = std::stoul(std::string(name_or_index));
    if (n < dockerfile.stages.size()) return n;
    return std::nullopt;
  }
  std::string lower = detail::to_lower(name_or_index);
  for (const Stage& s : dockerfile.stages)
    if (!s.from.stage_name.empty() && s.from.stage_name == lower) return s.index;
  return std::nullopt;
}

Result<StageGraph> build_stage_graph(const Dockerfile& dockerfile, const StageGraphOptions& options) {
  return GraphBuilder(dockerfile, options).run();
}

}  // namespace strata::dockerfile
