#include "auth/docker_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

#include "util/log.hpp"

namespace strata::auth {
namespace {

using Json = nlohmann::json;

constexpr std::string_view k_hub_key = "docker.io";
constexpr std::string_view k_hub_server_url = "https://index.docker.io/v1/";

Result<std::string> string_field(const Json& obj, const char* key, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return fail(ErrorKind::corrupt, std::string(where) + "." + key + " must be a string");
  }
  return it->get<std::string>();
}

Result<AuthEntry> parse_entry(const Json& j, std::string_view where) {
  if (!j.is_object()) return fail(ErrorKind::corrupt, std::string(where) + " must be an object");
  AuthEntry entry;
  std::string auth = TRY(string_field(j, "auth", where));
  entry.username = TRY(string_field(j, "username", where));
  entry.password = TRY(string_field(j, "password", where));
  entry.identity_token = TRY(string_field(j, "identitytoken", where));
  entry.registry_token = TRY(string_field(j, "registrytoken", where));
  if (!auth.empty()) {
    log::add_secret(auth);
    auto decoded = base64_decode(auth);
    if (!decoded) return fail(ErrorKind::corrupt, std::string(where) + ".auth is not valid base64");
    auto colon = decoded->find(':');
    if (colon == std::string::npos) {
      return fail(ErrorKind::corrupt, std::string(where) + ".auth does not decode to user:password");
    }
    // As docker/cli: a non-empty "auth" wins over username/password.
    entry.username = decoded->substr(0, colon);
    entry.password = decoded->substr(colon + 1);
  }
  log::add_secret(entry.password);
  log::add_secret(entry.identity_token);
  log::add_secret(entry.registry_token);
  return entry;
}

}  // namespace

std::string registry_key(std::string_view server) {
  while (!server.empty() && std::isspace(static_cast<unsigned char>(server.front()))) server.remove_prefix(1);
  while (!server.empty() && std::isspace(static_cast<unsigned char>(server.back()))) server.remove_suffix(1);
  if (auto scheme = server.find("://"); scheme != std::string_view::npos) server.remove_prefix(scheme + 3);
  if (auto slash = server.find('/'); slash != std::string_view::npos) server = server.substr(0, slash);
  std::string key(server);
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  if (key == "index.docker.io" || key == "registry-1.docker.io" || key == "registry.hub.docker.com") {
    key = std::string(k_hub_key);
  }
  return key;
}

std::string helper_server_url(std::string_view registry) {
  std::string key = registry_key(registry);
  return key == k_hub_key ? std::string(k_hub_server_url) : key;
}

Result<std::string> base64_decode(std::string_view text) {
  static constexpr auto k_table = [] {
    std::array<signed char, 256> t{};
    t.fill(-1);
    constexpr std::string_view k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < k_alphabet.size(); ++i) t[static_cast<unsigned char>(k_alphabet[i])] = static_cast<signed char>(i);
    return t;
  }();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return fail(ErrorKind::corrupt, "invalid base64 length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = k_table[static_cast<unsigned char>(c)];
    if (v < 0) return fail(ErrorKind::corrupt, "invalid base64 character");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

Result<DockerConfig> DockerConfig::parse(std::string_view text, std::string_view source) {
  DockerConfig config;
  config.source = std::string(source);
  auto where = [&](std::string_view what) { return "docker config " + config.source + ": " + std::string(what); };
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return fail(ErrorKind::corrupt, where("invalid JSON: ") + e.what());
  }
  if (!doc.is_object()) return fail(ErrorKind::corrupt, where("expected a JSON object"));

  if (auto it = doc.find("auths"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return fail(ErrorKind::corrupt, where("\"auths\" must be an object"));
    // Several keys may name one registry; as docker/cli, the exact form wins over aliases and
    // URLs (for the Hub, its legacy URL is the exact form `docker login` writes).
    std::map<std::string, int> rank_of;
    for (const auto& [server, value] : it->items()) {
      auto entry = parse_entry(value, "auths[\"" + server + "\"]");
      if (!entry) return fail(ErrorKind::corrupt, where(entry.error().message()));
      std::string key = registry_key(server);
      int rank = server == k_hub_server_url ? 3 : server == key ? 2 : 1;
      if (rank >= rank_of[key]) {
        rank_of[key] = rank;
        config.auths[key] = std::move(*entry);
      }
    }
  }
  if (auto it = doc.find("credHelpers"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return fail(ErrorKind::corrupt, where("\"credHelpers\" must be an object"));
    for (const auto& [server, value] : it->items()) {
      if (!value.is_string()) {
        return fail(ErrorKind::corrupt, where("credHelpers[\"" + server + "\"] must be a string"));
      }
      config.cred_helpers[registry_key(server)] = value.get<std::string>();
    }
  }
  auto store = string_field(doc, "credsStore", "config");
  if (!store) return fail(ErrorKind::corrupt, where("\"credsStore\" must be a string"));
  config.creds_store = std::move(*store);
  return config;
}

const AuthEntry* DockerConfig::find_auth(std::string_view registry) const {
  auto it = auths.find(registry_key(registry));
  return it == auths.end() ? nullptr : &it->second;
}

std::string DockerConfig::helper_for(std::string_view registry) const {
  auto it = cred_helpers.find(registry_key(registry));
  return it == cred_helpers.end() ? std::string() : it->second;
}

}  // namespace strata::auth
