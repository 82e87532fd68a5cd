#include "context/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "auth/token.hpp"
#include "context/crypto.hpp"
#include "util/strings.hpp"

namespace strata::context {
namespace {

std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty())
      out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// name → joined value, sorted by name.
std::map<std::string, std::string> canonical_headers(const SigV4Request &r) {
  std::map<std::string, std::string> out;
  for (const auto &[name, value] : r.headers) {
    std::string key = util::ascii_lower(name);
    std::string v = canonical_value(value);
    auto [it, inserted] = out.emplace(key, v);
    if (!inserted)
      it->second += "," + v;
  }
  return out;
}

std::string signed_headers(const std::map<std::string, std::string> &headers) {
  std::string out;
  for (const auto &[name, value] : headers) {
    if (!out.empty())
      out += ';';
    out += name;
  }
  return out;
}

std::string credential_scope(const SigV4Scope &s) {
  return s.amz_date.substr(0, 8) + "/" + s.region + "/" + s.service +
         "/aws4_request";
}

} // namespace

std::string sigv4_canonical_request(const SigV4Request &r) {
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto &[k, v] : r.query)
    query.emplace_back(auth::url_encode(k), auth::url_encode(v));
  std::sort(query.begin(), query.end());
  std::string q;
  for (const auto &[k, v] : query) {
    if (!q.empty())
      q += '&';
    q += k + "=" + v;
  }
  auto headers = canonical_headers(r);
  std::string out =
      r.method + "\n" + (r.path.empty() ? "/" : r.path) + "\n" + q + "\n";
  for (const auto &[name, value] : headers)
    out += name + ":" + value + "\n";
  out += "\n" + signed_headers(headers) + "\n" + r.payload_hash;
  return out;
}

std::string sigv4_string_to_sign(const SigV4Request &r, const SigV4Scope &s) {
  return "AWS4-HMAC-SHA256\n" + s.amz_date + "\n" + credential_scope(s) + "\n" +
         sha256_hex(sigv4_canonical_request(r));
}

std::string sigv4_signature(const SigV4Request &r, const SigV4Scope &s,
                            std::string_view secret) {
  std::string key =
      hmac_sha256("AWS4" + std::string(secret), s.amz_date.substr(0, 8));
  key = hmac_sha256(key, s.region);
  key = hmac_sha256(key, s.service);
  key = hmac_sha256(key, "aws4_request");
  return hex(hmac_sha256(key, sigv4_string_to_sign(r, s)));
}

std::string sigv4_authorization(const SigV4Request &r, const SigV4Scope &s,
                                const AwsCredentials &c) {
  return "AWS4-HMAC-SHA256 Credential=" + c.access_key_id + "/" +
         credential_scope(s) +
         ", SignedHeaders=" + signed_headers(canonical_headers(r)) +
         ", Signature=" + sigv4_signature(r, s, c.secret_access_key);
}

std::string s3_path(std::string_view raw) {
  std::string out;
  std::size_t start = 0;
  while (start <= raw.size()) {
    std::size_t slash = raw.find('/', start);
    std::string_view seg = raw.substr(start, slash == std::string_view::npos
                                                 ? std::string_view::npos
                                                 : slash - start);
    out += auth::url_encode(seg);
    if (slash == std::string_view::npos)
      break;
    out += '/';
    start = slash + 1;
  }
  if (out.empty() || out.front() != '/')
    out.insert(out.begin(), '/');
  return out;
}

std::string amz_date_now() { return utc_now("%Y%m%dT%H%M%SZ"); }

} // namespace strata::context
