#include "context/azure_shared_key.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "auth/docker_config.hpp"
#include "auth/token.hpp"
#include "context/crypto.hpp"
#include "util/strings.hpp"

namespace strata::context {
namespace {

std::string header(const AzureRequest &r, std::string_view name) {
  for (const auto &[k, v] : r.headers) {
    if (util::ascii_lower(k) == name)
      return v;
  }
  return {};
}

} // namespace

std::string azure_string_to_sign(const AzureRequest &r,
                                 std::string_view account) {
  std::string length = header(r, "content-length");
  if (length == "0")
    length.clear();
  std::string out = r.method + "\n";
  for (const char *name : {"content-encoding", "content-language"})
    out += header(r, name) + "\n";
  out += length + "\n";
  for (const char *name :
       {"content-md5", "content-type", "date", "if-modified-since", "if-match",
        "if-none-match", "if-unmodified-since", "range"})
    out += header(r, name) + "\n";
  std::map<std::string, std::string> ms;
  for (const auto &[k, v] : r.headers) {
    std::string name = util::ascii_lower(k);
    if (name.starts_with("x-ms-"))
      ms[name] = v;
  }
  for (const auto &[k, v] : ms)
    out += k + ":" + v + "\n";
  out += "/" + std::string(account) + (r.path.empty() ? "/" : r.path);
  std::map<std::string, std::vector<std::string>> query;
  for (const auto &[k, v] : r.query)
    query[util::ascii_lower(k)].push_back(v);
  for (auto &[k, values] : query) {
    std::sort(values.begin(), values.end());
    std::string joined;
    for (const auto &v : values)
      joined += (joined.empty() ? "" : ",") + v;
    out += "\n" + k + ":" + joined;
  }
  return out;
}

Result<std::string>
azure_shared_key_authorization(const AzureRequest &r, std::string_view account,
                               std::string_view base64_key) {
  auto key = auth::base64_decode(base64_key);
  if (!key)
    return fail(ErrorKind::invalid_argument,
                "AZURE_STORAGE_ACCESS_KEY is not base64");
  return "SharedKey " + std::string(account) + ":" +
         auth::base64_encode(
             hmac_sha256(*key, azure_string_to_sign(r, account)));
}

std::string http_date_now() { return utc_now("%a, %d %b %Y %H:%M:%S GMT"); }

} // namespace strata::context
