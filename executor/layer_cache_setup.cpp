#include "layer_cache_setup.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "cli/app.hpp"
#include "util/log.hpp"

namespace strata::executor {

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<std::unique_ptr<BuildCache>> BuildCache::open(const Flags& f, std::chrono::milliseconds ttl,
                                                     registry::Client* client,
                                                     const std::vector<image::Reference>& destinations,
                                                     const std::string& work_dir) {
  std::unique_ptr<BuildCache> out(new BuildCache());
  out->m_report_path = f.cache_report;
  if (!f.cache) return out;
  cache::CacheOptions o;
  o.enabled = true;
  o.ttl = ttl;
  o.run_layers = f.cache_run_layers;
  o.copy_layers = f.cache_copy_layers;
  o.compressed = f.compressed_caching;
  o.push = !f.no_push_cache;
  for (const auto& name : f.cache_key_exclude_args) {
    if (name.empty() || name.find('=') != std::string::npos) {
      return fail(cli::usage_error("--cache-key-exclude-arg " + name + ": expected an ARG name"));
    }
    o.exclude_args.insert(name);
  }

  if (!f.cache_dir.empty() && (exists(f.cache_dir) || f.cache_dir != Flags{}.cache_dir)) {
    auto dir = store::CacheDir::open(f.cache_dir);
    if (!dir) return fail(dir.error().with_context("--cache-dir " + f.cache_dir));
    out->m_dir.emplace(std::move(*dir));
  }

  std::string repo_name = f.cache_repo;
  if (repo_name.empty() && !destinations.empty()) {
    auto def = cache::default_cache_repo(destinations.front().str());
    if (!def) return fail(cli::usage_error("--cache-repo: " + def.error().message()));
    repo_name = *def;
  }
  std::unique_ptr<cache::CacheRepo> repo;
  if (!repo_name.empty()) {
    auto opened = cache::open_cache_repo(repo_name, client);
    if (!opened) return fail(cli::usage_error("--cache-repo " + repo_name + ": " + opened.error().message()));
    repo = std::move(*opened);
  }
  if (!out->m_dir && !repo) {
    log::warn("--cache: no cache dir (" + f.cache_dir + " does not exist) and no cache repo (no --cache-repo, no "
              "--destination): layers are not cached");
  }
  // Layers fetched from the repo when there is no cache dir (the push of the image reads them).
  if (::mkdir(work_dir.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("create work dir " + work_dir, errno);
  out->m_fallback = std::make_unique<store::BlobStore>(
      TRY_CTX(store::BlobStore::open(work_dir + "/cache-layers"), "layer cache store"));
  out->m_cache = std::make_unique<cache::LayerCache>(o, out->m_dir ? &*out->m_dir : nullptr, std::move(repo),
                                                     out->m_fallback.get());
  log::debug("layer cache", {{"local", out->m_dir ? out->m_dir->root() : "none"},
                             {"repo", repo_name.empty() ? "none" : repo_name}});
  return out;
}

Result<void> BuildCache::finish() {
  if (m_finished) return {};
  m_finished = true;
  cache::CacheReport report;
  if (m_cache) {
    report = m_cache->finish();
    log::info(report.summary_line());
  }
  if (!m_report_path.empty()) TRY(cache::write_report(report, m_report_path));
  return {};
}

}  // namespace strata::executor
