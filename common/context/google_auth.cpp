#include "context/google_auth.hpp"

#include <unistd.h>

#include <ctime>

#include <nlohmann/json.hpp>

#include "auth/token.hpp"
#include "context/crypto.hpp"
#include "context/fetch.hpp"
#include "util/log.hpp"

namespace strata::context {

Result<ServiceAccount> parse_service_account(const std::string &text,
                                             const std::string &file) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(ErrorKind::corrupt, file + ": not a JSON credentials file");
  ServiceAccount a;
  auto str = [&](const char *key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                 : std::string();
  };
  a.type = str("type");
  if (a.type == "authorized_user") {
    a.client_id = str("client_id");
    a.client_secret = str("client_secret");
    a.refresh_token = str("refresh_token");
    if (auto uri = str("token_uri"); !uri.empty())
      a.token_uri = uri;
    if (a.client_id.empty() || a.refresh_token.empty())
      return fail(ErrorKind::corrupt,
                  file + ": authorized_user credentials without client_id or "
                         "refresh_token");
    log::add_secret(a.client_secret);
    log::add_secret(a.refresh_token);
    return a;
  }
  if (a.type != "service_account")
    return fail(ErrorKind::unsupported,
                file + ": credentials of type \"" + a.type +
                    "\" (expected service_account or authorized_user)");
  a.client_email = str("client_email");
  a.private_key = str("private_key");
  a.private_key_id = str("private_key_id");
  if (auto uri = str("token_uri"); !uri.empty())
    a.token_uri = uri;
  if (a.client_email.empty() || a.private_key.empty())
    return fail(ErrorKind::corrupt,
                file + ": service account without client_email or private_key");
  log::add_secret(a.private_key);
  return a;
}

Result<std::string> make_jwt_assertion(const ServiceAccount &a,
                                       std::string_view scope,
                                       std::int64_t now) {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!a.private_key_id.empty())
    header["kid"] = a.private_key_id;
  nlohmann::json claims = {{"iss", a.client_email},
                           {"scope", std::string(scope)},
                           {"aud", a.token_uri},
                           {"iat", now},
                           {"exp", now + 3600}};
  std::string signing_input =
      base64url(header.dump()) + "." + base64url(claims.dump());
  std::string sig = TRY(rs256_sign(a.private_key, signing_input));
  return signing_input + "." + base64url(sig);
}

std::optional<std::string> google_credentials_file(const EnvLookup &env) {
  std::string file = env_or(env, "GOOGLE_APPLICATION_CREDENTIALS");
  if (!file.empty())
    return file;
  std::string config = env_or(env, "CLOUDSDK_CONFIG",
                              env_or(env, "HOME", "/root") + "/.config/gcloud");
  file = config + "/application_default_credentials.json";
  if (::access(file.c_str(), R_OK) == 0)
    return file;
  return std::nullopt;
}

Result<std::string> fetch_access_token(transport::Transport &transport,
                                       const ServiceAccount &a,
                                       const transport::TlsConfig &tls) {
  transport::Request req;
  req.method = transport::Method::post;
  req.url = a.token_uri;
  req.tls = tls;
  req.headers.add("Content-Type", "application/x-www-form-urlencoded");
  if (a.type == "authorized_user") {
    req.body_bytes =
        "grant_type=refresh_token&client_id=" + auth::url_encode(a.client_id) +
        "&client_secret=" + auth::url_encode(a.client_secret) +
        "&refresh_token=" + auth::url_encode(a.refresh_token);
  } else {
    std::string jwt = TRY(make_jwt_assertion(
        a, k_gcs_read_scope, static_cast<std::int64_t>(std::time(nullptr))));
    log::add_secret(jwt);
    req.body_bytes =
        "grant_type=" +
        auth::url_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
        "&assertion=" + jwt;
  }
  auto resp = TRY_CTX(transport.perform(req), "POST " + a.token_uri);
  if (resp.status < 200 || resp.status >= 300) {
    Error e = context_http_error(resp.status, "POST " + a.token_uri, resp.body);
    ErrorKind kind =
        resp.status == 400 || resp.status == 401 || resp.status == 403
            ? ErrorKind::unauthorized
            : e.kind();
    return fail(Error(
        kind, "the token endpoint refused the credentials: " + e.message(),
        e.retryable()));
  }
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_discarded() || !j.contains("access_token") ||
      !j["access_token"].is_string())
    return fail(ErrorKind::corrupt,
                "POST " + a.token_uri + ": no access_token in the answer");
  std::string token = j["access_token"].get<std::string>();
  log::add_secret(token);
  return token;
}

} // namespace strata::context
