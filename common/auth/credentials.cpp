#include "auth/credentials.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>

#include "auth/credential_helper.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"

namespace strata::auth {
namespace {

constexpr std::size_t k_max_config_size = 16 * 1024 * 1024;

Result<std::string> read_file(const std::string& path) {
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("docker config " + path, errno);
  std::string data;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("docker config " + path, errno);
    }
    if (n == 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
    if (data.size() > k_max_config_size) {
      return fail(ErrorKind::corrupt, "docker config " + path + ": larger than 16 MiB");
    }
  }
  return data;
}

std::string config_path_from_env() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/config.json";
  }
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  }
  return home + "/.docker/config.json";
}

Credentials from_entry(const AuthEntry& e) {
  return Credentials{e.username, e.password, e.identity_token, e.registry_token};
}

}  // namespace

struct CredentialStore::Cache {
  std::mutex mutex;
  // "helper\nregistry-key" → answer; a registry lookup runs its helper once per process.
  std::map<std::string, std::optional<Credentials>> answers;
  bool warned_missing_store = false;
};

CredentialStore::CredentialStore() : m_cache(std::make_shared<Cache>()) {}

Result<CredentialStore> CredentialStore::load() {
  std::string path = config_path_from_env();
  auto store = load_file(path);
  if (!store && store.error().kind() == ErrorKind::not_found) {
    log::debug("no docker config, using anonymous access", {{"path", path}});
    CredentialStore empty;
    empty.m_config.source = path;
    return empty;
  }
  return store;
}

Result<CredentialStore> CredentialStore::load_file(const std::string& path) {
  std::string text = TRY(read_file(path));
  return from_json(text, path);
}

Result<CredentialStore> CredentialStore::from_json(std::string_view text, std::string_view source) {
  CredentialStore store;
  store.m_config = TRY(DockerConfig::parse(text, source));
  return store;
}

Result<Credentials> CredentialStore::get(std::string_view registry) const {
  std::string key = registry_key(registry);
  auto ask = [&](const std::string& helper) -> Result<std::optional<Credentials>> {
    std::string cache_key = helper + "\n" + key;
    {
      std::lock_guard lock(m_cache->mutex);
      if (auto it = m_cache->answers.find(cache_key); it != m_cache->answers.end()) return it->second;
    }
    // Run outside the lock: a slow helper for one registry must not stall lookups for others.
    auto answer = run_credential_helper(helper, helper_server_url(key), k_helper_timeout);
    if (!answer) return fail(answer.error().with_context("credentials for " + key));
    std::lock_guard lock(m_cache->mutex);
    m_cache->answers.emplace(cache_key, *answer);
    return *answer;
  };

  if (std::string helper = m_config.helper_for(key); !helper.empty()) {
    auto answer = TRY(ask(helper));
    return answer ? *answer : Credentials{};
  }
  if (!m_config.creds_store.empty()) {
    auto answer = ask(m_config.creds_store);
    if (answer && *answer) return **answer;
    if (!answer) {
      if (answer.error().kind() != ErrorKind::not_found) return fail(answer.error());
      std::lock_guard lock(m_cache->mutex);
      if (!m_cache->warned_missing_store) {
        m_cache->warned_missing_store = true;
        log::warn("credsStore helper is not installed; using the \"auths\" entries of the docker config",
                  {{"helper", "docker-credential-" + m_config.creds_store}, {"config", m_config.source}});
      }
    }
  }
  if (const AuthEntry* entry = m_config.find_auth(key)) return from_entry(*entry);
  return Credentials{};
}

}  // namespace strata::auth
