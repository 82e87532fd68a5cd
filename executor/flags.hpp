// The executor's command line: kaniko's flag names, forms and defaults, registered on a CLI11
// app, and their validation into the engine's options (usage errors exit 2).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "cli/registry_flags.hpp"

namespace strata::executor {

struct Flags {
  std::string context = "/workspace/";
  std::string context_sub_path;
  std::vector<std::string> git;  // --git key=value,...
  std::string dockerfile = "Dockerfile";
  std::vector<std::string> destinations;
  bool no_push = false;
  std::string tar_path;
  std::string oci_layout_path;
  std::string digest_file;
  std::string image_name_with_digest_file;
  std::string image_name_tag_with_digest_file;
  std::vector<std::string> build_args;
  std::string target;
  bool skip_unused_stages = false;
  std::vector<std::string> labels;
  std::vector<std::string> secrets;  // id=ID,src=FILE
  bool use_new_run = false;          // kaniko's --use-new-run: accepted, no effect
  std::string custom_platform;
  std::string cache_dir = "/cache";
  std::string cache_ttl = "336h";
  // Layer cache (docs/caching.md).
  bool cache = false;
  std::string cache_repo;  // "" = <first destination>/cache; "oci:PATH" = an OCI layout
  bool cache_run_layers = true;
  bool cache_copy_layers = false;
  bool compressed_caching = true;
  bool no_push_cache = false;
  std::vector<std::string> cache_key_exclude_args;
  std::string cache_report;  // JSON report path
  std::string kaniko_dir = "/kaniko";
  std::string isolation;  // "" = chroot where it works, else in-place
  bool force = false;
  std::string snapshot_mode = "full";
  bool single_snapshot = false;
  std::vector<std::string> ignore_paths;
  bool ignore_var_run = true;
  std::string compression = "gzip";
  int compression_level = 0;
  bool reproducible = false;
  bool cleanup = false;
  int parallel_uploads = 3;
  cli::RegistryFlags registry;
  cli::LogFlags log;
};

void add_flags(CLI::App& app, Flags& flags);

}  // namespace strata::executor
