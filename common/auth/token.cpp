#include "auth/token.hpp"

#include <nlohmann/json.hpp>

namespace strata::auth {

std::string repository_scope(std::string_view repository, std::string_view actions) {
  return "repository:" + std::string(repository) + ":" + std::string(actions);
}

std::string url_encode(std::string_view text) {
  static const char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 15]);
    }
  }
  return out;
}

std::string base64_encode(std::string_view data) {
  static const char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8) |
                      static_cast<unsigned char>(data[i + 2]);
    out += k_alphabet[v >> 18];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += k_alphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    std::uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    out += k_alphabet[v >> 18];
    out += k_alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    std::uint32_t v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8);
    out += k_alphabet[v >> 18];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string basic_authorization(std::string_view username, std::string_view password) {
  return "Basic " + base64_encode(std::string(username) + ":" + std::string(password));
}

Result<std::string> token_url(const Challenge& bearer, const std::vector<std::string>& scopes) {
  std::string realm = bearer.param("realm");
  if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
    return fail(ErrorKind::invalid_argument, "Bearer challenge has no usable realm: '" + realm + "'");
  }
  std::string url = realm;
  char sep = realm.find('?') == std::string::npos ? '?' : '&';
  auto add = [&](std::string_view key, std::string_view value) {
    url += sep;
    url += key;
    url += '=';
    url += url_encode(value);
    sep = '&';
  };
  if (std::string service = bearer.param("service"); !service.empty()) add("service", service);
  for (const auto& scope : scopes) add("scope", scope);
  return url;
}

namespace {

std::string form_common(const Challenge& bearer, const std::vector<std::string>& scopes, std::string_view client_id) {
  std::string form;
  if (std::string service = bearer.param("service"); !service.empty()) form += "&service=" + url_encode(service);
  // OAuth2 takes one space-separated scope parameter.
  std::string joined;
  for (const auto& s : scopes) joined += (joined.empty() ? "" : " ") + s;
  if (!joined.empty()) form += "&scope=" + url_encode(joined);
  form += "&client_id=" + url_encode(client_id);
  return form;
}

}  // namespace

std::string oauth_refresh_form(const Challenge& bearer, const std::vector<std::string>& scopes,
                               std::string_view refresh_token, std::string_view client_id) {
  return "grant_type=refresh_token&refresh_token=" + url_encode(refresh_token) + form_common(bearer, scopes, client_id);
}

std::string oauth_password_form(const Challenge& bearer, const std::vector<std::string>& scopes,
                                std::string_view username, std::string_view password, std::string_view client_id) {
  return "grant_type=password&username=" + url_encode(username) + "&password=" + url_encode(password) +
         "&access_type=offline" + form_common(bearer, scopes, client_id);
}

Result<Token> parse_token_response(std::string_view body, std::chrono::system_clock::time_point now) {
  Token token;
  std::int64_t expires_in = 60;
  try {
    auto j = nlohmann::json::parse(body);
    if (!j.is_object()) return fail(ErrorKind::corrupt, "token response is not a JSON object");
    if (auto it = j.find("token"); it != j.end() && it->is_string()) token.value = it->get<std::string>();
    if (token.value.empty()) {
      if (auto it = j.find("access_token"); it != j.end() && it->is_string()) token.value = it->get<std::string>();
    }
    if (auto it = j.find("refresh_token"); it != j.end() && it->is_string()) {
      token.refresh_token = it->get<std::string>();
    }
    if (auto it = j.find("expires_in"); it != j.end() && it->is_number()) {
      expires_in = it->get<std::int64_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("token response is not valid JSON: ") + e.what());
  }
  if (token.value.empty()) return fail(ErrorKind::corrupt, "token response holds neither 'token' nor 'access_token'");
  if (expires_in < 60) expires_in = 60;
  token.expires_at = now + std::chrono::seconds(expires_in);
  return token;
}

}  // namespace strata::auth
