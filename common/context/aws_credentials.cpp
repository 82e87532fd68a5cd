#include "context/aws_credentials.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "util/log.hpp"

namespace strata::context {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::string> read_text(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < (1u << 20))
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

template <class F> void for_each_line(std::string_view text, F f) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    f(text.substr(0, nl));
    text =
        nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
}

std::string home_file(const EnvLookup &env, std::string_view override_var,
                      std::string_view rel) {
  std::string path = env_or(env, override_var);
  if (!path.empty())
    return path;
  return env_or(env, "HOME", "/root") + "/" + std::string(rel);
}

} // namespace

bool ini_has_section(std::string_view text, std::string_view section) {
  bool found = false;
  for_each_line(text, [&](std::string_view line) {
    std::string t = trim(line);
    if (t.size() > 2 && t.front() == '[' && t.back() == ']' &&
        trim(std::string_view(t).substr(1, t.size() - 2)) == section)
      found = true;
  });
  return found;
}

std::optional<std::string> ini_value(std::string_view text,
                                     std::string_view section,
                                     std::string_view key) {
  std::optional<std::string> out;
  bool in_section = false;
  for_each_line(text, [&](std::string_view line) {
    std::string t = trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';')
      return;
    if (t.front() == '[' && t.back() == ']') {
      in_section = trim(std::string_view(t).substr(1, t.size() - 2)) == section;
      return;
    }
    if (!in_section || out)
      return;
    std::size_t eq = t.find('=');
    if (eq == std::string::npos)
      return;
    if (trim(std::string_view(t).substr(0, eq)) == key)
      out = trim(std::string_view(t).substr(eq + 1));
  });
  return out;
}

Result<std::optional<AwsCredentials>> aws_credentials(const EnvLookup &env) {
  AwsCredentials c;
  c.access_key_id = env_or(env, "AWS_ACCESS_KEY_ID");
  c.secret_access_key = env_or(env, "AWS_SECRET_ACCESS_KEY");
  c.session_token = env_or(env, "AWS_SESSION_TOKEN");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    std::string file =
        home_file(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    std::string profile = env_or(env, "AWS_PROFILE",
                                 env_or(env, "AWS_DEFAULT_PROFILE", "default"));
    auto text = read_text(file);
    if (!text) {
      if (profile != "default")
        return fail(ErrorKind::unauthorized,
                    "AWS_PROFILE=" + profile + ": no shared credentials file " +
                        file);
      return std::optional<AwsCredentials>{};
    }
    if (!ini_has_section(*text, profile)) {
      if (profile != "default")
        return fail(ErrorKind::unauthorized,
                    "AWS profile " + profile + " not found in " + file);
      return std::optional<AwsCredentials>{};
    }
    auto id = ini_value(*text, profile, "aws_access_key_id");
    auto secret = ini_value(*text, profile, "aws_secret_access_key");
    if (!id || !secret)
      return fail(ErrorKind::unauthorized,
                  "AWS profile " + profile + " in " + file +
                      ": aws_access_key_id or aws_secret_access_key missing");
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    c.session_token =
        ini_value(*text, profile, "aws_session_token").value_or("");
  }
  log::add_secret(c.secret_access_key);
  log::add_secret(c.session_token);
  return std::optional<AwsCredentials>(c);
}

std::string aws_region(const EnvLookup &env) {
  std::string region =
      env_or(env, "AWS_REGION", env_or(env, "AWS_DEFAULT_REGION"));
  if (!region.empty())
    return region;
  std::string profile = env_or(env, "AWS_PROFILE", "default");
  if (auto text = read_text(home_file(env, "AWS_CONFIG_FILE", ".aws/config"))) {
    std::string section =
        profile == "default" ? "default" : "profile " + profile;
    if (auto r = ini_value(*text, section, "region"))
      return *r;
  }
  return "us-east-1";
}

} // namespace strata::context
