#include "build/engine.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "archive/root_dir.hpp"
#include "build/engine_internal.hpp"
#include "dockerfile/shell_lex.hpp"
#include "fetch/dockerfile_images.hpp"
#include "run/container_detect.hpp"
#include "util/log.hpp"

namespace strata::build {

namespace df = dockerfile;
namespace stdfs = std::filesystem;

std::string rfc3339_now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace detail {

std::string BuildShared::now() const {
  if (options->reproducible) return {};
  return options->clock ? options->clock() : rfc3339_now();
}

Result<const SourceRoot*> BuildShared::context_root() {
  if (!context) {
    context = TRY_CTX(SourceRoot::open_context(options->context_dir, options->dockerfile_path),
                      "build context " + options->context_dir);
  }
  return &*context;
}

archive::ExtractOptions BuildShared::extract_options() const {
  archive::ExtractOptions o;
  if (options->isolation == run::Isolation::in_place) {
    o.ignore_paths = options->protected_paths;
    for (const char* p : {"/proc", "/sys", "/dev"}) o.ignore_paths.emplace_back(p);
    o.ignore_paths.insert(o.ignore_paths.end(), options->ignore_paths.begin(), options->ignore_paths.end());
  }
  return o;
}

Result<std::string> BuildShared::from_root(const std::string& from) {
  if (auto stage = df::find_stage(*dockerfile, from)) {
    auto it = stage_roots.find(*stage);
    if (it == stage_roots.end()) {
      return fail(ErrorKind::internal, "stage " + from + " has no root (was it built?)");
    }
    return it->second;
  }
  if (auto it = image_roots.find(from); it != image_roots.end()) return it->second;
  auto ref = image::Reference::parse(from);
  if (!ref) return fail(ErrorKind::invalid_argument, "--from=" + from + ": " + ref.error().message());
  auto state = TRY(images->resolve(*ref));
  std::string dir = options->work_dir + "/image-" + std::to_string(++image_counter);
  if (::mkdir(dir.c_str(), 0755) != 0) return fail_errno("mkdir " + dir, errno);
  archive::ExtractOptions eo;  // never in place: a separate directory
  TRY_CTX(unpack_layers(state, dir, eo), "unpack " + ref->str());
  image_roots[from] = dir;
  return dir;
}

}  // namespace detail

namespace {

Result<std::string> read_dockerfile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail_errno("read Dockerfile " + path, errno ? errno : ENOENT);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > df::k_max_input_bytes) return fail(ErrorKind::invalid_argument, path + ": Dockerfile too large");
  return ss.str();
}

df::Lookup map_lookup(const std::map<std::string, std::string>& values) {
  return [&values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

Result<void> remove_tree(const std::string& dir) {
  std::error_code ec;
  stdfs::remove_all(dir, ec);
  if (ec) return fail(ErrorKind::io, "remove " + dir + ": " + ec.message());
  return {};
}

Result<ImageState> base_state(detail::BuildShared& shared, const df::StageNode& node) {
  const auto& options = *shared.options;
  ImageState state;
  if (node.scratch) {
    state.format = ManifestFormat::oci;
    state.config.os = options.platform.os.empty() ? "linux" : options.platform.os;
    state.config.architecture = options.platform.architecture;
    state.config.variant = options.platform.variant;
  } else if (node.base_stage) {
    if (!shared.results[*node.base_stage]) {
      return fail(ErrorKind::internal, "stage " + std::to_string(*node.base_stage) + " was not built");
    }
    state = *shared.results[*node.base_stage];
  } else {
    auto ref = image::Reference::parse(node.base);
    if (!ref) return fail(ErrorKind::invalid_argument, "FROM " + node.base + ": " + ref.error().message());
    state = TRY(shared.images->resolve(*ref));
  }
  if (options.layer.compression == archive::Compression::zstd) TRY(convert_format(state, ManifestFormat::oci));
  // BuildKit: "make sure that PATH is always set" (FROM scratch, or a base without PATH).
  auto& env = state.config.config.env;
  if (std::none_of(env.begin(), env.end(), [](const std::string& e) { return e.rfind("PATH=", 0) == 0; })) {
    env.push_back("PATH=" + std::string(run::k_default_path));
  }
  return state;
}

}  // namespace

Result<BuildResult> build_image(const BuildOptions& options, ImageSource& images) {
  auto text = TRY(read_dockerfile(options.dockerfile_path));
  auto dockerfile = TRY(df::parse_dockerfile(text, options.dockerfile_path));
  for (const auto& w : dockerfile.warnings) log::warn(w);

  auto automatic = fetch::automatic_platform_args(options.platform);
  df::BuildVariables vars(options.build_args, automatic);
  for (const auto& instr : dockerfile.meta_args) {
    const auto* arg = instr.as<df::ArgInstr>();
    if (!arg) continue;
    for (const auto& decl : arg->args) {
      std::optional<std::string> value;
      if (decl.default_value) {
        auto r = df::expand_word(*decl.default_value, vars.global_lookup(), dockerfile.escape);
        if (!r) return fail(df::located_error(options.dockerfile_path, instr.line, r.error().message()));
        value = r->value;
      }
      vars.declare_global_arg(decl.name, value);
    }
  }
  df::StageGraphOptions go;
  go.target = options.target;
  go.build_args = map_lookup(options.build_args);
  go.automatic_args = map_lookup(automatic);
  auto graph = TRY(df::build_stage_graph(dockerfile, go));

  std::vector<std::size_t> order;
  if (options.skip_unused_stages) {
    order = graph.needed;
  } else {
    for (std::size_t i = 0; i <= graph.target; ++i) order.push_back(i);
  }
  if (options.isolation == run::Isolation::in_place) {
    if (order.size() > 1) {
      return fail(ErrorKind::unsupported,
                  "--isolation=in-place builds a single stage on /; this build needs " + std::to_string(order.size()) +
                      " stages (use --isolation=chroot, or --skip-unused-stages with --target)");
    }
    if (!options.force && run::container_evidence(run::current_host_view()).empty()) {
      return fail(ErrorKind::denied, std::string(run::k_in_place_refusal));
    }
  }
  // The last stage (in build order) that reads each stage's root.
  std::map<std::size_t, std::size_t> last_use;
  for (std::size_t s : order) {
    for (const auto& dep : graph.stages[s].deps) {
      if (dep.kind != df::DependencyKind::base) last_use[dep.stage] = std::max(last_use[dep.stage], s);
    }
  }

  if (::mkdir(options.work_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail_errno("create work dir " + options.work_dir, errno);
  }
  detail::BuildShared shared;
  shared.options = &options;
  shared.images = &images;
  shared.dockerfile = &dockerfile;
  shared.graph = &graph;
  shared.vars = &vars;
  shared.layers = std::make_unique<store::BlobStore>(
      TRY_CTX(store::BlobStore::open(options.work_dir + "/store"), "layer store"));
  shared.results.resize(dockerfile.stages.size());
  shared.stage_keys.resize(dockerfile.stages.size());
  for (const auto& [stage, _] : last_use) shared.keep_roots.insert(stage);

  for (std::size_t s : order) {
    const auto& node = graph.stages[s];
    std::string label = node.name.empty() ? std::to_string(s) : node.name;
    log::info("stage " + label + ": FROM " + (node.scratch ? "scratch" : node.base));
    auto state = TRY(base_state(shared, node));
    std::string root = "/";
    if (options.isolation == run::Isolation::chroot) {
      root = options.work_dir + "/stage-" + std::to_string(s);
      TRY(remove_tree(root));
      if (::mkdir(root.c_str(), 0755) != 0) return fail_errno("mkdir " + root, errno);
    }
    if (!detail::StageRunner::extracts_lazily(options, root)) {
      TRY_CTX(unpack_layers(state, root, shared.extract_options()), "stage " + label + ": unpack base image");
    }
    detail::StageRunner runner(shared, s, root, std::move(state));
    auto result = TRY(runner.run());
    ++shared.stats.stages;
    if (s == graph.target) {
      for (const auto& [k, v] : options.labels) result.config.config.labels[k] = v;
    }
    shared.results[s] = std::move(result);
    if (last_use.count(s)) shared.stage_roots[s] = root;
    else if (root != "/") TRY(remove_tree(root));
    // Roots whose last reader was this stage are not needed any more.
    for (auto it = shared.stage_roots.begin(); it != shared.stage_roots.end();) {
      if (last_use[it->first] == s && it->first != s) {
        if (it->second != "/") TRY(remove_tree(it->second));
        it = shared.stage_roots.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (auto warning = vars.unused_build_args_warning()) log::warn(*warning);
  for (const auto& [_, dir] : shared.image_roots) TRY(remove_tree(dir));

  BuildResult result;
  result.image = std::move(*shared.results[graph.target]);
  result.stats = shared.stats;
  return result;
}

}  // namespace strata::build
