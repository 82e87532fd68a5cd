// HTTP statuses → ErrorKind, and the small value types of transport.hpp.
//
// Registries answer errors with the distribution error envelope
//   {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "...", "detail": ...}]}
// whose codes refine the status: DIGEST_INVALID / SIZE_INVALID mean the bytes we sent do not match
// what we claimed (corrupt), TOOMANYREQUESTS is a 429 in disguise on some registries.
#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "transport/transport.hpp"

namespace strata::transport {

std::string_view to_string(Method method) {
  switch (method) {
    case Method::get: return "GET";
    case Method::head: return "HEAD";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::patch: return "PATCH";
    case Method::del: return "DELETE";
  }
  return "GET";
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

void Headers::set(std::string_view name, std::string value) {
  remove(name);
  m_items.emplace_back(std::string(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(m_items, [&](const auto& item) { return iequals(item.first, name); });
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : m_items) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : m_items) {
    if (iequals(k, name)) out.push_back(v);
  }
  return out;
}

namespace {

struct RegistryErrors {
  std::string text;  // "MANIFEST_UNKNOWN: manifest unknown; ..."
  bool digest_invalid = false;
  bool too_many_requests = false;
};

RegistryErrors parse_error_body(std::string_view body) {
  RegistryErrors out;
  if (body.empty()) return out;
  try {
    auto j = nlohmann::json::parse(body);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return out;
    for (const auto& e : j["errors"]) {
      if (!e.is_object()) continue;
      std::string code = e.value("code", std::string());
      std::string message = e.value("message", std::string());
      if (code == "DIGEST_INVALID" || code == "SIZE_INVALID") out.digest_invalid = true;
      if (code == "TOOMANYREQUESTS") out.too_many_requests = true;
      if (!out.text.empty()) out.text += "; ";
      out.text += code.empty() ? message : (message.empty() ? code : code + ": " + message);
    }
  } catch (const nlohmann::json::exception&) {
    // Not the error envelope (an HTML error page from a proxy, say): the status alone speaks.
  }
  return out;
}

}  // namespace

Error status_error(int status, std::string_view what, std::string_view body) {
  RegistryErrors errors = parse_error_body(body);
  std::string message = std::string(what) + ": HTTP " + std::to_string(status);
  if (!errors.text.empty()) message += " (" + errors.text + ")";

  if (status == 429 || errors.too_many_requests) return Error(ErrorKind::network, message, true);
  if (status == 401) return Error(ErrorKind::unauthorized, message);
  if (status == 403) return Error(ErrorKind::denied, message);
  if (status == 404) return Error(ErrorKind::not_found, message);
  if (status == 405 || status == 501) return Error(ErrorKind::unsupported, message);
  if (status == 408) return Error(ErrorKind::timeout, message, true);
  if (status >= 500) return Error(ErrorKind::network, message, true);
  if (errors.digest_invalid) return Error(ErrorKind::corrupt, message);
  return Error(ErrorKind::invalid_argument, message);
}

}  // namespace strata::transport
