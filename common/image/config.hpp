// Image configuration JSON (OCI image-spec config.md, Docker image spec v1.2): what the executor
// reads from a base image and writes for the image it builds.
//
// parse() validates types and keeps the whole document, so serialize() writes back fields Strata
// does not model (docker's "container_config", "docker_version", ...) unchanged. serialize() is
// deterministic and byte-compatible with what Go's encoding/json writes for the OCI/BuildKit
// structs: keys in struct order (created, author, architecture, os, os.version, os.features,
// variant, config, rootfs, history; then unknown keys, sorted), empty fields omitted as
// `omitempty` does, maps sorted, healthcheck durations in nanoseconds, compact, HTML-escaped.
// ImageConfig is a plain value; safe to share between threads once built.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "digest/digest.hpp"
#include "image/platform.hpp"
#include "util/result.hpp"

namespace strata::image {

struct HealthCheck {
  std::vector<std::string> test;  // {"NONE"}, {"CMD", ...}, {"CMD-SHELL", "cmd"}
  std::chrono::nanoseconds interval{0};
  std::chrono::nanoseconds timeout{0};
  std::chrono::nanoseconds start_period{0};
  std::chrono::nanoseconds start_interval{0};
  int retries = 0;

  friend bool operator==(const HealthCheck&, const HealthCheck&) = default;
};

// The "config" object: the runtime defaults of containers made from the image.
struct ContainerConfig {
  std::string user;
  std::vector<std::string> exposed_ports;  // "80/tcp"; parse() sorts, serialize() sorts and dedups
  std::vector<std::string> env;            // "KEY=value", in order
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> volumes;        // likewise
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  bool args_escaped = false;
  std::optional<HealthCheck> healthcheck;
  std::vector<std::string> on_build;
  std::vector<std::string> shell;

  friend bool operator==(const ContainerConfig&, const ContainerConfig&) = default;
};

struct HistoryEntry {
  std::string created;  // RFC 3339, kept as written
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;

  friend bool operator==(const HistoryEntry&, const HistoryEntry&) = default;
};

struct ImageConfig {
  std::string created;  // RFC 3339, kept as written; empty = omitted
  std::string author;
  std::string architecture;
  std::string os;
  std::string os_version;
  std::vector<std::string> os_features;
  std::string variant;
  ContainerConfig config;
  std::string rootfs_type = "layers";
  std::vector<digest::Digest> diff_ids;
  std::vector<HistoryEntry> history;

  // Errors: corrupt naming the field ("image config: field 'config.Env' must be an array of
  // strings"), for bad JSON, oversized (> 4 MiB) or too deeply nested documents.
  static Result<ImageConfig> parse(std::string_view bytes);
  std::string serialize() const;

  Platform platform() const;  // os/architecture/variant/os.version/os.features

  // Sets env KEY to value, replacing an existing KEY= entry in place (as Docker's ENV does).
  void set_env(std::string_view key, std::string_view value);
  // The value of KEY in env, if present.
  std::optional<std::string> get_env(std::string_view key) const;

 private:
  // The parsed document, for fields not modelled above (null when built from scratch).
  nlohmann::json m_raw;
  friend struct ConfigCodec;
};

}  // namespace strata::image
