#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>

#include "build/base_image.hpp"
#include "build/copy.hpp"
#include "build/engine_internal.hpp"
#include "build/layer_commit.hpp"
#include "build/step_cache.hpp"
#include "cache/layer_cache.hpp"
#include "dockerfile/shell_lex.hpp"
#include "run/root_path.hpp"
#include "run/user.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::build::detail {

namespace df = dockerfile;

struct StageRunner::PlannedCopy {
  CopyPlan plan;
  std::string created_by;  // history
  std::string key_text;    // the instruction as hashed into the cache key
  digest::Digest fingerprint;
};

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
  if (extracts_lazily(options, m_root)) m_unextracted = m_state.layers;
  m_snapshotter.emplace(TRY_CTX(fs::Snapshotter::create(m_root, so), "snapshot of the base image"));
  if (auto* lc = options.layer_cache; lc && lc->enabled()) {
    m_chain = start_key_chain(m_shared.graph->stages[m_index], m_state, m_shared.stage_keys, options.platform.str(),
                              lc->key_options());
    if (!m_chain) log::warn("layer cache: the base of stage " + std::to_string(m_index) +
                            " has no known manifest digest; the stage is built without the cache");
  }

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
  if (m_chain) m_shared.stage_keys[m_index] = m_chain->current();
  // A later stage reads this root (COPY --from, RUN --mount from=): it must hold every layer.
  if (m_shared.keep_roots.count(m_index)) TRY(flush_cached_layers());

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

Result<bool> StageRunner::snapshot(const std::vector<std::string>& masked, bool cached) {
  const auto& options = *m_shared.options;
  if (options.single_snapshot) {
    m_masked.insert(m_masked.end(), masked.begin(), masked.end());
    m_last_fs_history = m_state.config.history.size();
    return false;
  }
  auto changes = TRY_CTX(m_snapshotter->snapshot(), "snapshot");
  changes = drop_masked(std::move(changes), masked);
  archive::LayerOptions layer_options = options.layer;
  if (cached && !options.layer_cache->options().compressed) layer_options.compression = archive::Compression::none;
  auto layer = TRY(commit_layer(changes, m_root, *m_shared.layers, layer_options, m_state.format));
  if (!layer) return false;
  log::debug("layer " + layer->descriptor.digest.str(), {{"entries", std::to_string(changes.size())},
                                                         {"size", util::human_size(layer->descriptor.size)}});
  m_shared.stats.layer_bytes += static_cast<std::uint64_t>(layer->descriptor.size);
  ++m_shared.stats.layers;
  m_state.layers.push_back(std::move(*layer));
  return true;
}

bool StageRunner::extracts_lazily(const BuildOptions& options, const std::string& root) {
  return options.layer_cache && options.layer_cache->enabled() && !options.single_snapshot && root != "/";
}

std::optional<cache::StepKey> StageRunner::step_key(cache::StepInputs inputs) {
  if (!m_chain) return std::nullopt;
  return m_chain->next(inputs);
}

bool StageRunner::caches(const std::optional<cache::StepKey>& key) const {
  const auto& options = *m_shared.options;
  return key && !options.single_snapshot && options.layer_cache->caches(key->kind);
}

Result<bool> StageRunner::reuse_layer(const cache::StepKey& key, std::string created_by) {
  const auto& options = *m_shared.options;
  auto* lc = options.layer_cache;
  std::size_t index = m_step_index - 1;
  if (options.single_snapshot) {
    lc->skip(key, m_index, index, "--single-snapshot makes no per-step layers");
    return false;
  }
  auto hit = lc->lookup(key, m_index, index);  // records the step (skipped when its kind is off)
  if (!hit) return false;
  LayerBlob layer{hit->layer.descriptor, hit->layer.diff_id, hit->layer.path};
  // Entries of builds with another compression or manifest format have other media types.
  const auto& type = layer.descriptor.media_type;
  if (type != layer_media_type(m_state.format, options.layer.compression) &&
      type != layer_media_type(m_state.format, archive::Compression::none)) {
    lc->reject(key, "cached layer is " + type + ", this build writes " +
                        layer_media_type(m_state.format, options.layer.compression));
    return false;
  }
  m_shared.stats.layer_bytes += static_cast<std::uint64_t>(layer.descriptor.size);
  ++m_shared.stats.layers;
  ++m_shared.stats.cached_layers;
  m_unextracted.push_back(layer);
  m_state.layers.push_back(std::move(layer));
  add_history(std::move(created_by), false);
  return true;
}

void StageRunner::store_layer(const cache::StepKey& key) {
  const auto& l = m_state.layers.back();
  m_shared.options->layer_cache->store(key, cache::LayerFile{l.descriptor, l.diff_id, l.path});
}

Result<void> StageRunner::flush_cached_layers() {
  if (m_unextracted.empty()) return {};
  ImageState pending;
  pending.layers = std::move(m_unextracted);
  m_unextracted.clear();
  TRY_CTX(unpack_layers(pending, m_root, m_shared.extract_options()), "extract base image and cached layers");
  // The new baseline: these changes are already layers of the image.
  TRY_CTX(m_snapshotter->snapshot(), "snapshot after extracting cached layers");
  return {};
}

Result<void> StageRunner::step(const df::Instruction& instr, std::optional<std::size_t> command_index) {
  ++m_shared.stats.steps;
  ++m_step_index;
  log::info(instr.original);
  if (const auto* run = instr.as<df::RunInstr>()) {
    auto mounts = TRY(run_mounts(*run, instr));
    std::string created_by = "/bin/sh -c " + instr.original.substr(std::min<std::size_t>(4, instr.original.size()));
    std::optional<cache::StepKey> key;
    if (m_chain) {
      cache::StepInputs in;
      in.kind = cache::StepKind::run;
      in.instruction = run_key_text(instr, *run);
      in.display = instr.original;
      in.variables = m_vars->visible();
      auto bound = bind_mount_inputs(mounts);
      if (!bound) return fail(located(instr, bound.error()));
      in.mounts = std::move(*bound);
      key = step_key(std::move(in));
      if (TRY(reuse_layer(*key, created_by))) return {};
    }
    bool layer = TRY(run_instruction(*run, instr, std::move(mounts), caches(key)));
    add_history(std::move(created_by), !layer);
    if (layer && caches(key)) store_layer(*key);
    return {};
  }
  if (const auto* copy = instr.as<df::CopyInstr>()) {
    TRY(flush_cached_layers());  // planning reads the root (--chown names, the destination)
    auto planned = TRY(copy_instruction(*copy, instr, command_index));
    std::optional<cache::StepKey> key;
    if (m_chain) {
      cache::StepInputs in;
      in.kind = copy->is_add ? cache::StepKind::add : cache::StepKind::copy;
      in.instruction = planned.key_text;
      in.display = instr.original;
      in.variables = m_vars->visible();
      in.files = planned.fingerprint;
      key = step_key(std::move(in));
      if (TRY(reuse_layer(*key, planned.created_by))) return {};
    }
    auto stats = execute_copy(planned.plan, m_root);
    if (!stats) return fail(located(instr, stats.error()));
    bool layer = TRY(snapshot({}, caches(key)));
    add_history(std::move(planned.created_by), !layer);
    if (layer && caches(key)) store_layer(*key);
    return {};
  }
  if (instr.is<df::FromInstr>()) return fail(located(instr, Error(ErrorKind::invalid_argument, "unexpected FROM")));
  if (m_chain) {  // metadata steps chain too: they change what later steps see
    cache::StepInputs in;
    in.kind = cache::StepKind::metadata;
    in.instruction = instr.original;
    in.display = instr.original;
    in.variables = m_vars->visible();
    step_key(std::move(in));
  }
  // WORKDIR and VOLUME create directories.
  if (instr.is<df::WorkdirInstr>() || instr.is<df::VolumeInstr>()) TRY(flush_cached_layers());
  const std::size_t volumes_before = m_state.config.config.volumes.size();
  auto applied = apply_metadata(instr, m_meta);
  if (!applied) return fail(located(instr, applied.error()));
  bool layer = false;
  if (instr.is<df::WorkdirInstr>()) {
    // BuildKit creates the directory as the current USER (Mkdir WithUser), as buildah and kaniko.
    std::optional<std::pair<uid_t, gid_t>> owner;
    if (const auto& user = m_state.config.config.user; !user.empty()) {
      // A name missing from the image's /etc/passwd (FROM scratch has none) makes root's
      // directories, as BuildKit's file op does (kaniko's test_workdir_with_user: `USER root`).
      // BuildKit's ChownOpt rules, as COPY --chown: a lone numeric user also sets the gid.
      auto image = archive::RootDir::open(m_root);
      if (!image) return fail(located(instr, image.error()));
      auto resolved = resolve_owner(*image, user);
      if (resolved) {
        owner = std::make_pair(static_cast<uid_t>(resolved->uid), static_cast<gid_t>(resolved->gid));
      } else if (resolved.error().kind() != ErrorKind::not_found) {
        return fail(located(instr, resolved.error()));
      }
    }
    auto made = run::Placeholders::make_dirs(m_root, m_state.config.config.working_dir, owner);
    if (!made) return fail(located(instr, made.error()));
    layer = TRY(snapshot());
  } else if (instr.is<df::VolumeInstr>()) {
    // kaniko and buildah create the declared directories (root, 0755); BuildKit only records them.
    const auto& volumes = m_state.config.config.volumes;
    for (std::size_t v = volumes_before; v < volumes.size(); ++v) {
      auto made = run::Placeholders::make_dirs(m_root, volumes[v]);
      if (!made) return fail(located(instr, made.error()));
    }
    layer = TRY(snapshot());
  }
  add_history(nop_created_by(instr), !layer);
  return {};
}

Result<bool> StageRunner::run_instruction(const df::RunInstr& run, const df::Instruction& instr,
                                          std::vector<run::MountSpec> mounts, bool cached) {
  const auto& options = *m_shared.options;
  TRY(flush_cached_layers());
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
  req.mounts = std::move(mounts);
  req.network_none = run.network == "none";
  req.description = instr.original;
  req.cache_root = options.work_dir + "/run-cache";
  req.temp_dir = options.work_dir + "/tmp";
  req.force = options.force;
  req.exit_status = options.failed_run_status;
  ::mkdir(req.temp_dir.c_str(), 0700);
  if (!req.mounts.empty()) ::mkdir(req.cache_root.c_str(), 0700);
  auto result = run::run_step(options.isolation, req);
  if (!result) return fail(located(instr, result.error()));
  return snapshot(result->masked_paths, cached);
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
      // --secret id=ID,src=FILE; without one the mount gets no source (an error only when required).
      case df::MountType::secret: {
        spec.kind = run::MountKind::secret;
        auto it = m_shared.options->secrets.find(m.id);
        if (it != m_shared.options->secrets.end()) spec.source = it->second;
        break;
      }
      // No --ssh flag yet: an ssh mount gets no agent socket.
      case df::MountType::ssh: spec.kind = run::MountKind::ssh; break;
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Result<StageRunner::PlannedCopy> StageRunner::copy_instruction(const df::CopyInstr& copy, const df::Instruction& instr,
                                                  std::optional<std::size_t> command_index) {
  df::CopyInstr expanded = copy;
  for (auto& src : expanded.sources) {
    if (!src.inline_content) {
      src.path = TRY(expand(instr, src.path));
    } else if (src.expand) {  // `COPY <<EOT`: BuildKit expands the body (not for <<'EOT')
      auto body = df::expand_heredoc(src.content, m_vars->lookup());
      if (!body) return fail(located(instr, body.error()));
      src.content = std::move(body->value);
    }
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
  env.keep_source_owners = !from.empty();
  ::mkdir(env.temp_dir.c_str(), 0700);
  auto request = CopyRequest::from_instruction(
      expanded, m_state.config.config.working_dir.empty() ? "/" : m_state.config.config.working_dir);
  auto plan = plan_copy(request, env);
  if (!plan) return fail(located(instr, plan.error()));
  auto fingerprint = plan->fingerprint();
  if (!fingerprint) return fail(located(instr, fingerprint.error()));

  // buildah / classic docker: "COPY file:<hash> in <dest> " (dir: for one directory, multi:
  // for several sources).
  std::string kind = "multi";
  if (plan->items().size() == 1) kind = plan->items().front().is_dir ? "dir" : "file";
  std::string created_by = "/bin/sh -c #(nop) " + std::string(copy.is_add ? "ADD " : "COPY ") + kind + ":" +
                           fingerprint->hex() + " in " + expanded.destination + " ";
  return PlannedCopy{std::move(*plan), std::move(created_by), copy_key_text(expanded, from), *fingerprint};
}

}  // namespace strata::build::detail
