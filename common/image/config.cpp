#include "image/config.hpp"

#include <algorithm>
#include <array>

#include "image/json_util.hpp"

namespace strata::image {

using json_util::Json;
using json_util::OrderedJson;

namespace {

constexpr std::array<std::string_view, 10> k_top_keys = {"created", "author", "architecture", "os", "os.version",
                                                         "os.features", "variant", "config", "rootfs", "history"};
constexpr std::array<std::string_view, 13> k_config_keys = {
    "User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
    "Labels", "StopSignal", "ArgsEscaped", "Healthcheck", "OnBuild", "Shell"};

template <std::size_t N>
bool is_known(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Docker's strslice: a JSON string is accepted as a one-element list.
Result<std::vector<std::string>> str_slice(const Json& obj, const char* key, std::string_view where) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_string()) return std::vector<std::string>{it->get<std::string>()};
  return json_util::get_string_array(obj, key, where);
}

Result<std::chrono::nanoseconds> duration(const Json& obj, const char* key, std::string_view where) {
  return std::chrono::nanoseconds(TRY(json_util::get_int64(obj, key, where)));
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

OrderedJson key_set(const std::vector<std::string>& keys) {
  OrderedJson j = OrderedJson::object();
  for (const auto& k : sorted_unique(keys)) j[k] = OrderedJson::object();
  return j;
}

tl::unexpected<Error> not_object(std::string_view field) {
  return fail(ErrorKind::corrupt, "field '" + std::string(field) + "' must be an object");
}

}  // namespace

struct ConfigCodec {
  static Result<HealthCheck> parse_healthcheck(const Json& j) {
    if (!j.is_object()) return not_object("config.Healthcheck");
    constexpr std::string_view where = "config.Healthcheck";
    HealthCheck h;
    h.test = TRY(json_util::get_string_array(j, "Test", where));
    h.interval = TRY(duration(j, "Interval", where));
    h.timeout = TRY(duration(j, "Timeout", where));
    h.start_period = TRY(duration(j, "StartPeriod", where));
    h.start_interval = TRY(duration(j, "StartInterval", where));
    auto retries = TRY(json_util::get_int64(j, "Retries", where));
    if (retries < 0 || retries > 1'000'000'000) {
      return fail(ErrorKind::corrupt, "field 'config.Healthcheck.Retries' is out of range");
    }
    h.retries = static_cast<int>(retries);
    return h;
  }

  static Result<ContainerConfig> parse_container(const Json& j) {
    ContainerConfig c;
    if (j.is_null()) return c;
    if (!j.is_object()) return not_object("config");
    constexpr std::string_view where = "config";
    c.user = TRY(json_util::get_string(j, "User", where));
    c.exposed_ports = sorted_unique(TRY(json_util::get_key_set(j, "ExposedPorts", where)));
    c.env = TRY(json_util::get_string_array(j, "Env", where));
    c.entrypoint = TRY(str_slice(j, "Entrypoint", where));
    c.cmd = TRY(str_slice(j, "Cmd", where));
    c.volumes = sorted_unique(TRY(json_util::get_key_set(j, "Volumes", where)));
    c.working_dir = TRY(json_util::get_string(j, "WorkingDir", where));
    c.labels = TRY(json_util::get_string_map(j, "Labels", where));
    c.stop_signal = TRY(json_util::get_string(j, "StopSignal", where));
    c.args_escaped = TRY(json_util::get_bool(j, "ArgsEscaped", where));
    if (auto it = j.find("Healthcheck"); it != j.end() && !it->is_null()) c.healthcheck = TRY(parse_healthcheck(*it));
    c.on_build = TRY(json_util::get_string_array(j, "OnBuild", where));
    c.shell = TRY(str_slice(j, "Shell", where));
    return c;
  }

  static Result<HistoryEntry> parse_history(const Json& j, std::size_t i) {
    std::string where = "history[" + std::to_string(i) + "]";
    if (!j.is_object()) return not_object(where);
    HistoryEntry h;
    h.created = TRY(json_util::get_string(j, "created", where));
    h.created_by = TRY(json_util::get_string(j, "created_by", where));
    h.author = TRY(json_util::get_string(j, "author", where));
    h.comment = TRY(json_util::get_string(j, "comment", where));
    h.empty_layer = TRY(json_util::get_bool(j, "empty_layer", where));
    return h;
  }

  static Result<ImageConfig> parse(std::string_view bytes) {
    Json doc = TRY(json_util::parse_bounded(bytes, "invalid JSON"));
    if (!doc.is_object()) return fail(ErrorKind::corrupt, "expected a JSON object");
    ImageConfig c;
    c.created = TRY(json_util::get_string(doc, "created", ""));
    c.author = TRY(json_util::get_string(doc, "author", ""));
    c.architecture = TRY(json_util::get_string(doc, "architecture", ""));
    c.os = TRY(json_util::get_string(doc, "os", ""));
    c.os_version = TRY(json_util::get_string(doc, "os.version", ""));
    c.os_features = TRY(json_util::get_string_array(doc, "os.features", ""));
    c.variant = TRY(json_util::get_string(doc, "variant", ""));
    if (auto it = doc.find("config"); it != doc.end()) c.config = TRY(parse_container(*it));
    if (auto it = doc.find("rootfs"); it != doc.end() && !it->is_null()) {
      if (!it->is_object()) return not_object("rootfs");
      c.rootfs_type = TRY(json_util::get_string(*it, "type", "rootfs"));
      if (c.rootfs_type != "layers") {
        return fail(ErrorKind::unsupported, "rootfs type '" + c.rootfs_type + "' is not supported (expected 'layers')");
      }
      auto ids = TRY(json_util::get_string_array(*it, "diff_ids", "rootfs"));
      for (std::size_t i = 0; i < ids.size(); ++i) {
        auto d = digest::Digest::parse(ids[i]);
        if (!d) {
          return fail(ErrorKind::corrupt, "field 'rootfs.diff_ids[" + std::to_string(i) + "]': " + d.error().message());
        }
        c.diff_ids.push_back(std::move(*d));
      }
    }
    if (auto it = doc.find("history"); it != doc.end() && !it->is_null()) {
      if (!it->is_array()) return fail(ErrorKind::corrupt, "field 'history' must be an array");
      for (std::size_t i = 0; i < it->size(); ++i) c.history.push_back(TRY(parse_history((*it)[i], i)));
    }
    c.m_raw = std::move(doc);
    return c;
  }

  static OrderedJson container_json(const ContainerConfig& c, const Json& raw) {
    OrderedJson j = OrderedJson::object();
    if (!c.user.empty()) j["User"] = c.user;
    if (!c.exposed_ports.empty()) j["ExposedPorts"] = key_set(c.exposed_ports);
    if (!c.env.empty()) j["Env"] = c.env;
    if (!c.entrypoint.empty()) j["Entrypoint"] = c.entrypoint;
    if (!c.cmd.empty()) j["Cmd"] = c.cmd;
    if (!c.volumes.empty()) j["Volumes"] = key_set(c.volumes);
    if (!c.working_dir.empty()) j["WorkingDir"] = c.working_dir;
    if (!c.labels.empty()) j["Labels"] = c.labels;
    if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
    if (c.args_escaped) j["ArgsEscaped"] = true;
    if (c.healthcheck) {
      const HealthCheck& h = *c.healthcheck;
      OrderedJson hj = OrderedJson::object();
      if (!h.test.empty()) hj["Test"] = h.test;
      if (h.interval.count() != 0) hj["Interval"] = h.interval.count();
      if (h.timeout.count() != 0) hj["Timeout"] = h.timeout.count();
      if (h.start_period.count() != 0) hj["StartPeriod"] = h.start_period.count();
      if (h.start_interval.count() != 0) hj["StartInterval"] = h.start_interval.count();
      if (h.retries != 0) hj["Retries"] = h.retries;
      j["Healthcheck"] = std::move(hj);
    }
    if (!c.on_build.empty()) j["OnBuild"] = c.on_build;
    if (!c.shell.empty()) j["Shell"] = c.shell;
    if (raw.is_object()) {
      for (const auto& [key, value] : raw.items()) {
        if (!is_known(k_config_keys, key)) j[key] = OrderedJson::parse(value.dump());
      }
    }
    return j;
  }

  static std::string serialize(const ImageConfig& c) {
    OrderedJson j = OrderedJson::object();
    if (!c.created.empty()) j["created"] = c.created;
    if (!c.author.empty()) j["author"] = c.author;
    j["architecture"] = c.architecture;
    j["os"] = c.os;
    if (!c.os_version.empty()) j["os.version"] = c.os_version;
    if (!c.os_features.empty()) j["os.features"] = c.os_features;
    if (!c.variant.empty()) j["variant"] = c.variant;
    static const Json k_null;
    const Json& raw_config = c.m_raw.is_object() && c.m_raw.contains("config") ? c.m_raw["config"] : k_null;
    j["config"] = container_json(c.config, raw_config);
    OrderedJson rootfs = OrderedJson::object();
    rootfs["type"] = c.rootfs_type;
    rootfs["diff_ids"] = OrderedJson::array();
    for (const auto& d : c.diff_ids) rootfs["diff_ids"].push_back(d.str());
    j["rootfs"] = std::move(rootfs);
    if (!c.history.empty()) {
      OrderedJson history = OrderedJson::array();
      for (const auto& h : c.history) {
        OrderedJson hj = OrderedJson::object();
        if (!h.created.empty()) hj["created"] = h.created;
        if (!h.created_by.empty()) hj["created_by"] = h.created_by;
        if (!h.author.empty()) hj["author"] = h.author;
        if (!h.comment.empty()) hj["comment"] = h.comment;
        if (h.empty_layer) hj["empty_layer"] = true;
        history.push_back(std::move(hj));
      }
      j["history"] = std::move(history);
    }
    if (c.m_raw.is_object()) {
      for (const auto& [key, value] : c.m_raw.items()) {
        if (!is_known(k_top_keys, key)) j[key] = OrderedJson::parse(value.dump());
      }
    }
    return json_util::go_dump(j);
  }
};

Result<ImageConfig> ImageConfig::parse(std::string_view bytes) {
  auto parsed = ConfigCodec::parse(bytes);
  if (!parsed) return fail(parsed.error().with_context("image config"));
  return parsed;
}

std::string ImageConfig::serialize() const { return ConfigCodec::serialize(*this); }

Platform ImageConfig::platform() const {
  Platform p;
  p.os = os;
  p.architecture = architecture;
  p.variant = variant;
  p.os_version = os_version;
  p.os_features = os_features;
  return p;
}

void ImageConfig::set_env(std::string_view key, std::string_view value) {
  std::string entry = std::string(key) + "=" + std::string(value);
  for (auto& e : config.env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      e = std::move(entry);
      return;
    }
  }
  config.env.push_back(std::move(entry));
}

std::optional<std::string> ImageConfig::get_env(std::string_view key) const {
  for (const auto& e : config.env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      return e.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

}  // namespace strata::image
