#include "executor_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "build/base_image.hpp"
#include "build/engine.hpp"
#include "build/image_assembly.hpp"
#include "build/outputs.hpp"
#include "build_context.hpp"
#include "cli/credentials.hpp"
#include "flags.hpp"
#include "image/reference.hpp"
#include "layer_cache_setup.hpp"
#include "registry/client.hpp"
#include "transport/curl_transport.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace strata::executor {
namespace {

namespace stdfs = std::filesystem;

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto p = stdfs::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// kaniko: a Dockerfile path is taken as given if it exists, else inside the context.
Result<std::string> dockerfile_path(const std::string& dockerfile, const std::string& context) {
  if (!dockerfile.empty() && dockerfile.front() == '/') return dockerfile;
  if (::access(dockerfile.c_str(), F_OK) == 0 && dockerfile != "Dockerfile") return absolute(dockerfile);
  std::string in_context = context + "/" + dockerfile;
  if (::access(in_context.c_str(), F_OK) == 0) return in_context;
  if (::access(dockerfile.c_str(), F_OK) == 0) return absolute(dockerfile);
  return fail(cli::usage_error("--dockerfile " + dockerfile + ": not found (also looked in " + context + ")"));
}

Result<std::map<std::string, std::string>> key_values(const std::vector<std::string>& items, const char* flag,
                                                      bool from_env) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == 0) return fail(cli::usage_error(std::string(flag) + " " + item + ": empty name"));
    if (eq == std::string::npos) {
      if (!from_env) return fail(cli::usage_error(std::string(flag) + " " + item + ": expected KEY=VALUE"));
      // kaniko: a bare NAME takes its value from the environment (and is skipped if unset).
      if (const char* v = std::getenv(item.c_str())) out[item] = v;
      continue;
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

struct Prepared {
  build::BuildOptions build;
  std::vector<image::Reference> destinations;
  std::chrono::milliseconds ttl{};
};

// --secret id=ID,src=FILE (also source=, type=file), as BuildKit and buildah spell it.
Result<std::map<std::string, std::string>> parse_secrets(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    std::string id;
    std::string src;
    std::size_t pos = 0;
    while (pos <= item.size()) {
      std::size_t comma = item.find(',', pos);
      if (comma == std::string::npos) comma = item.size();
      std::string field = item.substr(pos, comma - pos);
      pos = comma + 1;
      auto eq = field.find('=');
      std::string key = field.substr(0, eq);
      std::string value = eq == std::string::npos ? std::string() : field.substr(eq + 1);
      if (key == "id") {
        id = value;
      } else if (key == "src" || key == "source") {
        src = value;
      } else if (key == "type" && value == "file") {
        continue;
      } else {
        return fail(cli::usage_error("--secret " + item + ": unknown field '" + key +
                                     "' (expected id=ID,src=FILE)"));
      }
    }
    if (id.empty() || src.empty()) return fail(cli::usage_error("--secret " + item + ": expected id=ID,src=FILE"));
    if (::access(src.c_str(), R_OK) != 0) return fail(cli::usage_error("--secret " + item + ": cannot read " + src));
    out[id] = absolute(src);
  }
  return out;
}

Result<Prepared> prepare(const Flags& f) {
  Prepared p;
  if (f.destinations.empty() && !f.no_push) {
    return fail(cli::usage_error("you must provide --destination, or use --no-push"));
  }
  for (const auto& d : f.destinations) {
    auto ref = image::Reference::parse(d);
    if (!ref) return fail(cli::usage_error("--destination " + d + ": " + ref.error().message()));
    if (ref->tag().empty() && !ref->digest()) *ref = ref->with_tag("latest");
    p.destinations.push_back(*ref);
  }
  auto ttl = util::parse_duration(f.cache_ttl);
  if (!ttl) return fail(cli::usage_error("--cache-ttl: " + ttl.error().message()));
  p.ttl = *ttl;

  auto& b = p.build;
  TRY(check_context_flags(f));  // resolved (fetched) in execute()
  b.build_args = TRY(key_values(f.build_args, "--build-arg", true));
  b.labels = TRY(key_values(f.labels, "--label", false));
  b.secrets = TRY(parse_secrets(f.secrets));
  b.target = f.target;
  b.skip_unused_stages = f.skip_unused_stages;
  if (!f.custom_platform.empty()) {
    auto platform = image::Platform::parse(f.custom_platform);
    if (!platform) return fail(cli::usage_error("--custom-platform: " + platform.error().message()));
    b.platform = *platform;
  }
  b.isolation = f.isolation.empty() ? run::default_isolation() : TRY(run::parse_isolation(f.isolation));
  b.force = f.force;
  b.snapshot_mode = TRY(fs::parse_snapshot_mode(f.snapshot_mode));
  b.single_snapshot = f.single_snapshot;
  for (const auto& path : f.ignore_paths) {
    if (path.empty() || path.front() != '/') return fail(cli::usage_error("--ignore-path " + path + ": must be absolute"));
    b.ignore_paths.push_back(path);
  }
  b.ignore_var_run = f.ignore_var_run;
  b.layer.compression = TRY(archive::parse_compression(f.compression));
  b.layer.level = f.compression_level;
  if (f.compression_level < 0 || f.compression_level > (b.layer.compression == archive::Compression::zstd ? 19 : 9)) {
    return fail(cli::usage_error("--compression-level " + std::to_string(f.compression_level) + ": out of range for " +
                                 f.compression));
  }
  b.reproducible = f.reproducible;
  if (f.reproducible) {
    b.layer.tar.mtime_policy = archive::MtimePolicy::set;
    b.layer.tar.epoch = 0;
  }
  std::string kaniko = absolute(f.kaniko_dir);
  b.work_dir = kaniko + "/build-" + std::to_string(::getpid());
  b.protected_paths = {kaniko};
  if (!f.cache_dir.empty()) b.protected_paths.push_back(absolute(f.cache_dir));
  return p;
}

Result<void> make_dirs(const std::string& dir) {
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) return fail(ErrorKind::io, "create " + dir + ": " + ec.message());
  return {};
}

std::vector<std::string> repo_tags(const std::vector<image::Reference>& destinations) {
  std::vector<std::string> out;
  for (const auto& d : destinations) {
    if (!d.tag().empty()) out.push_back(d.familiar());
  }
  return out;
}

std::vector<std::string> layout_names(const std::vector<image::Reference>& destinations) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& d : destinations) {
    if (!d.tag().empty() && seen.insert(d.tag()).second) out.push_back(d.tag());
  }
  if (out.empty()) out.push_back("latest");
  return out;
}

Result<void> execute(const Flags& f, int& run_status) {
  auto start = std::chrono::steady_clock::now();
  // kaniko compatibility: credentials mounted at /kaniko/.docker.
  if (!std::getenv("DOCKER_CONFIG") && is_dir("/kaniko/.docker")) ::setenv("DOCKER_CONFIG", "/kaniko/.docker", 1);
  auto p = TRY(prepare(f));
  p.build.failed_run_status = &run_status;
  auto options = TRY(cli::registry_options(f.registry));
  auto client = TRY(registry::Client::create(options, TRY(cli::login_lookup())));

  if (!f.no_push) {
    std::set<std::string> checked;
    for (const auto& d : p.destinations) {
      if (!checked.insert(d.name()).second) continue;
      TRY_CTX(client->check_push(d), "checking push permission for " + d.name());
    }
  }

  std::string kaniko = absolute(f.kaniko_dir);
  TRY(make_dirs(kaniko));
  build::ImageSourceOptions so;
  so.cache_dir = f.cache_dir;
  so.private_dir = kaniko + "/images";
  so.platform = p.build.platform;
  so.ttl = p.ttl;
  auto images = TRY(build::ImageSource::open(client.get(), so));
  log::debug("base images: " + images->describe());

  transport::CurlTransport transport;
  p.build.transport = &transport;
  auto context = TRY(fetch_context(f, kaniko, transport));
  p.build.context_dir = context.dir();
  p.build.dockerfile_path = TRY(dockerfile_path(f.dockerfile, p.build.context_dir));
  struct WorkDirGuard {
    std::string dir;
    bool remove;
    ~WorkDirGuard() {
      if (!remove) return;
      std::error_code ec;
      stdfs::remove_all(dir, ec);
    }
  } guard{p.build.work_dir, f.cleanup};

  // Destroyed before the guard removes the work dir: entry pushes may read layers from it.
  auto layer_cache = TRY(BuildCache::open(f, p.ttl, client.get(), p.destinations, p.build.work_dir));
  p.build.layer_cache = layer_cache->cache();
  auto building = build::build_image(p.build, *images);
  if (!building) {
    (void)layer_cache->finish();  // the summary and report of a failed build are still useful
    return fail(building.error());
  }
  auto built = std::move(*building);
  build::AssembleOptions ao;
  ao.platform = p.build.platform;
  ao.created = build::rfc3339_now();
  ao.reproducible = f.reproducible;
  auto image = TRY(build::assemble_image(std::move(built.image), ao));

  if (!f.no_push) {
    build::PushOptions po;
    po.parallel_uploads = f.parallel_uploads;
    TRY(build::push_image(*client, image, p.destinations, po));
  }
  if (!f.tar_path.empty()) {
    TRY(build::write_docker_archive(f.tar_path, image, repo_tags(p.destinations)));
    log::info("wrote " + f.tar_path);
  }
  if (!f.oci_layout_path.empty()) {
    TRY(build::write_oci_layout(f.oci_layout_path, image, layout_names(p.destinations)));
    log::info("wrote OCI layout " + f.oci_layout_path);
  }
  build::DigestFiles files{f.digest_file, f.image_name_with_digest_file, f.image_name_tag_with_digest_file};
  TRY(build::write_digest_files(files, image.manifest_digest, p.destinations));
  if (f.cleanup) {
    std::error_code ec;
    stdfs::remove_all(so.private_dir, ec);
  }

  TRY(layer_cache->finish());

  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const auto& s = built.stats;
  std::string from_cache = s.cached_layers ? ", " + std::to_string(s.cached_layers) + " from cache" : "";
  log::info("built " + image.manifest_digest.str() + ": " + std::to_string(s.stages) + " stage(s), " +
                std::to_string(s.steps) + " step(s), " + std::to_string(s.layers) + " new layer(s) (" +
                util::human_size(s.layer_bytes) + from_cache + "), image " + util::human_size(image.total_size()) + ", " +
                util::human_duration(elapsed),
            {{"digest", image.manifest_digest.str()}});
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "executor builds a container image from a Dockerfile without a Docker daemon (kaniko's flags),\n"
      "and pushes it to registries and/or writes it as a tarball or OCI layout.",
      "executor"};
  add_flags(app, flags);
  // kaniko: a failing RUN step's exit status becomes the executor's (other failures exit 1).
  int run_status = 0;
  int rc = cli::run("executor", app, argc, argv, flags.log, [&] { return execute(flags, run_status); });
  return rc == cli::k_exit_failure && run_status > 0 ? run_status : rc;
}

}  // namespace strata::executor
