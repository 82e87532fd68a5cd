#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>

#include "build/copy.hpp"
#include "build/engine_internal.hpp"
#include "build/layer_commit.hpp"
#include "dockerfile/shell_lex.hpp"
#include "run/root_path.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::build::detail {

namespace df = dockerfile;

StageRunner::StageRunner(BuildShared& shared, std::size_t stage_index, std::string root, ImageState state)
    : m_shared(shared), m_index(stage_index), m_root(std::move(root)), m_state(std::move(state)) {}

Error StageRunner::located(const df::Instruction& instr, Error error) const {
  std::string where = m_shared.options->dockerfile_path + ":" + std::to_string(instr.line);
  if (error.message().rfind(where, 0) == 0) return error;  // already located by the dockerfile module
  return error.with_context(where);
}

Result<std::string> StageRunner::expand(const df::Instruction& instr, std::string_view word) const {
  auto r = df::expand_word(word, m_vars->lookup(), m_shared.dockerfile->escape);
  if (!r) return fail(located(instr, r.error()));
  return std::move(r->value);
}

void StageRunner::add_history(std::string created_by, bool empty_layer) {
  image::HistoryEntry h;
  h.created = m_shared.now();
  h.created_by = std::move(created_by);
  h.empty_layer = empty_layer;
  m_state.config.history.push_back(std::move(h));
}

Result<ImageState> StageRunner::run() {
  const auto& options = *m_shared.options;
  m_vars.emplace(m_shared.vars->begin_stage(m_state.config.config.env));
  m_meta.config = &m_state.config;
  m_meta.vars = &*m_vars;
  m_meta.escape = m_shared.dockerfile->escape;
  m_meta.file = options.dockerfile_path;

  fs::SnapshotOptions so;
  so.mode = options.snapshot_mode;
  so.ignore_paths = options.ignore_paths;
  so.ignore_var_run = options.ignore_var_run;
  if (m_root == "/") {
    so.ignore_paths.insert(so.ignore_paths.end(), options.protected_paths.begin(), options.protected_paths.end());
  }
  m_snapshotter.emplace(TRY_CTX(fs::Snapshotter::create(m_root, so), "snapshot of the base image"));

  // ONBUILD triggers of the base image run first; the new image does not inherit them.
  std::vector<df::Instruction> triggers;
  for (const auto& text : m_state.config.config.on_build) {
    auto instr = df::parse_instruction_line(text, m_shared.dockerfile->escape, "ONBUILD trigger");
    if (!instr) return fail(instr.error().with_context("base image ONBUILD trigger"));
    instr->line = m_shared.dockerfile->stages[m_index].line;
    triggers.push_back(std::move(*instr));
  }
  m_state.config.config.on_build.clear();
  for (const auto& t : triggers) TRY(step(t, std::nullopt));

  const auto& commands = m_shared.dockerfile->stages[m_index].commands;
  for (std::size_t i = 0; i < commands.size(); ++i) TRY(step(commands[i], i));

  if (options.single_snapshot) {
    auto changes = TRY_CTX(m_snapshotter->snapshot(), "snapshot");
    changes = drop_masked(std::move(changes), m_masked);
    auto layer = TRY(commit_layer(changes, m_root, *m_shared.layers, options.layer, m_state.format));
    if (layer) {
      m_shared.stats.layer_bytes += static_cast<std::uint64_t>(layer->descriptor.size);
      ++m_shared.stats.layers;
      m_state.layers.push_back(std::move(*layer));
      if (m_last_fs_history) {
        m_state.config.history[*m_last_fs_history].empty_layer = false;
      } else {
        add_history("strata --single-snapshot", false);
      }
    }
  }
  m_state.config.config.env = m_vars->image_env();
  return std::move(m_state);
}

Result<bool> StageRunner::snapshot(const std::vector<std::string>& masked) {
  const auto& options = *m_shared.options;
  if (options.single_snapshot) {
    m_masked.insert(m_masked.end(), masked.begin(), masked.end());
    m_last_fs_history = m_state.config.history.size();
    return false;
  }
  auto changes = TRY_CTX(m_snapshotter->snapshot(), "snapshot");
  changes = drop_masked(std::move(changes), masked);
  auto layer = TRY(commit_layer(changes, m_root, *m_shared.layers, options.layer, m_state.format));
  if (!layer) return false;
  log::debug("layer " + layer->descriptor.digest.str(), {{"entries", std::to_string(changes.size())},
                                                         {"size", util::human_size(layer->descriptor.size)}});
  m_shared.stats.layer_bytes += static_cast<std::uint64_t>(layer->descriptor.size);
  ++m_shared.stats.layers;
  m_state.layers.push_back(std::move(*layer));
  return true;
}

Result<void> StageRunner::step(const df::Instruction& instr, std::optional<std::size_t> command_index) {
  ++m_shared.stats.steps;
  log::info(instr.original);
  if (const auto* run = instr.as<df::RunInstr>()) {
    bool layer = TRY(run_instruction(*run, instr));
    std::string created_by = "/bin/sh -c " + instr.original.substr(std::min<std::size_t>(4, instr.original.size()));
    add_history(std::move(created_by), !layer);
    return {};
  }
  if (const auto* copy = instr.as<df::CopyInstr>()) {
    auto created_by = TRY(copy_instruction(*copy, instr, command_index));
    bool layer = TRY(snapshot());
    add_history(std::move(created_by), !layer);
    return {};
  }
  if (instr.is<df::FromInstr>()) return fail(located(instr, Error(ErrorKind::invalid_argument, "unexpected FROM")));
  auto applied = apply_metadata(instr, m_meta);
  if (!applied) return fail(located(instr, applied.error()));
  bool layer = false;
  if (instr.is<df::WorkdirInstr>()) {
    auto made = run::Placeholders::make_dirs(m_root, m_state.config.config.working_dir);
    if (!made) return fail(located(instr, made.error()));
    layer = TRY(snapshot());
  }
  add_history(nop_created_by(instr), !layer);
  return {};
}

Result<bool> StageRunner::run_instruction(const df::RunInstr& run, const df::Instruction& instr) {
  const auto& options = *m_shared.options;
  run::RunRequest req;
  req.root = m_root;
  const auto& command = run.command;
  if (command.shell_form && !command.args.empty()) {
    std::string script = command.args.front();
    if (!command.heredocs.empty()) {
      // `RUN <<EOF` alone runs the body as the script; otherwise the bodies follow the command
      // line as here-documents for the shell to feed.
      std::string trimmed = script;
      while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
      while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.erase(0, 1);
      df::Heredoc only;
      if (command.heredocs.size() == 1 && df::parse_heredoc_word(trimmed, only)) {
        const auto& h = command.heredocs.front();
        script = h.chomp ? df::chomp_heredoc(h.content) : h.content;
      } else {
        for (const auto& h : command.heredocs) {
          script += "\n" + (h.chomp ? df::chomp_heredoc(h.content) : h.content) + h.name;
        }
      }
    }
    req.argv = shell_of(m_state.config);
    req.argv.push_back(std::move(script));
  } else {
    req.argv = command.args;
  }
  if (req.argv.empty()) return fail(located(instr, Error(ErrorKind::invalid_argument, "RUN without a command")));
  req.env = m_vars->run_env();
  req.user = m_state.config.config.user;
  req.workdir = m_state.config.config.working_dir.empty() ? "/" : m_state.config.config.working_dir;
  req.mounts = TRY(run_mounts(run, instr));
  req.network_none = run.network == "none";
  req.description = instr.original;
  req.cache_root = options.work_dir + "/run-cache";
  req.temp_dir = options.work_dir + "/tmp";
  req.force = options.force;
  ::mkdir(req.temp_dir.c_str(), 0700);
  if (!req.mounts.empty()) ::mkdir(req.cache_root.c_str(), 0700);
  auto result = run::run_step(options.isolation, req);
  if (!result) return fail(located(instr, result.error()));
  return snapshot(result->masked_paths);
}

Result<std::vector<run::MountSpec>> StageRunner::run_mounts(const df::RunInstr& run, const df::Instruction& instr) {
  std::vector<run::MountSpec> out;
  for (const auto& m0 : run.mounts) {
    df::Mount m = m0;
    if (m.needs_expansion) {
      auto spec = TRY(expand(instr, m.spec));
      auto parsed = df::parse_mount(spec);
      if (!parsed) return fail(located(instr, parsed.error()));
      m = *parsed;
    }
    run::MountSpec spec;
    spec.target = m.target;
    spec.id = m.id;
    spec.readonly = m.readonly;
    spec.uid = m.uid;
    spec.gid = m.gid;
    spec.mode = m.mode;
    spec.required = m.required;
    spec.env = m.env;
    spec.size = m.size;
    spec.sharing = m.sharing == df::MountSharing::shared    ? run::CacheSharing::shared
                   : m.sharing == df::MountSharing::locked  ? run::CacheSharing::locked
                                                            : run::CacheSharing::private_;
    switch (m.type) {
      case df::MountType::bind: {
        spec.kind = run::MountKind::bind;
        std::string base;
        if (m.from.empty()) {
          base = TRY(m_shared.context_root())->real_path();
        } else {
          auto root = m_shared.from_root(m.from);
          if (!root) return fail(located(instr, root.error()));
          base = *root;
        }
        std::string rel = m.source;
        while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
        auto resolved = run::resolve_in_root(base, rel);
        if (!resolved) return fail(located(instr, resolved.error()));
        if (!resolved->exists) {
          return fail(located(instr, Error(ErrorKind::not_found, "--mount source " + m.source + " not found")));
        }
        spec.source = resolved->host;
        break;
      }
      case df::MountType::cache: spec.kind = run::MountKind::cache; break;
      case df::MountType::tmpfs: spec.kind = run::MountKind::tmpfs; break;
      // No --secret/--ssh flags yet: such mounts get no source (an error only when required).
      case df::MountType::secret: spec.kind = run::MountKind::secret; break;
      case df::MountType::ssh: spec.kind = run::MountKind::ssh; break;
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Result<std::string> StageRunner::copy_instruction(const df::CopyInstr& copy, const df::Instruction& instr,
                                                  std::optional<std::size_t> command_index) {
  df::CopyInstr expanded = copy;
  for (auto& src : expanded.sources) {
    if (!src.inline_content) src.path = TRY(expand(instr, src.path));
  }
  expanded.destination = TRY(expand(instr, copy.destination));
  expanded.chown = TRY(expand(instr, copy.chown));
  if (copy.chmod && copy.chmod->text.find('$') != std::string::npos) {
    auto parsed = df::parse_chmod(TRY(expand(instr, copy.chmod->text)));
    if (!parsed) return fail(located(instr, parsed.error()));
    expanded.chmod = *parsed;
  }
  for (auto& e : expanded.excludes) e = TRY(expand(instr, e));
  std::string from = expanded.from;
  if (command_index) {
    auto it = m_shared.graph->stages[m_index].copy_from.find(*command_index);
    if (it != m_shared.graph->stages[m_index].copy_from.end()) from = it->second;
  } else if (!from.empty()) {
    from = TRY(expand(instr, from));
  }

  std::optional<SourceRoot> from_root;
  const SourceRoot* source = nullptr;
  if (from.empty()) {
    auto ctx = m_shared.context_root();
    if (!ctx) return fail(located(instr, ctx.error()));
    source = *ctx;
  } else {
    auto dir = m_shared.from_root(from);
    if (!dir) return fail(located(instr, dir.error()));
    auto opened = SourceRoot::open_tree(*dir);
    if (!opened) return fail(located(instr, opened.error()));
    from_root = std::move(*opened);
    source = &*from_root;
  }
  CopyEnvironment env;
  env.source = source;
  env.image_root = m_root;
  env.transport = m_shared.options->transport;
  env.temp_dir = m_shared.options->work_dir + "/tmp";
  ::mkdir(env.temp_dir.c_str(), 0700);
  auto request = CopyRequest::from_instruction(
      expanded, m_state.config.config.working_dir.empty() ? "/" : m_state.config.config.working_dir);
  auto plan = plan_copy(request, env);
  if (!plan) return fail(located(instr, plan.error()));
  auto fingerprint = plan->fingerprint();
  if (!fingerprint) return fail(located(instr, fingerprint.error()));
  auto stats = execute_copy(*plan, m_root);
  if (!stats) return fail(located(instr, stats.error()));

  // buildah / classic docker: "COPY file:<hash> in <dest> " (dir: for one directory, multi:
  // for several sources).
  std::string kind = "multi";
  if (plan->items().size() == 1) kind = plan->items().front().is_dir ? "dir" : "file";
  return "/bin/sh -c #(nop) " + std::string(copy.is_add ? "ADD " : "COPY ") + kind + ":" + fingerprint->hex() +
         " in " + expanded.destination + " ";
}

}  // namespace strata::build::detail
