// https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB (or a sovereign cloud's
// host): one Get Blob. Authorization, in order:
//   - a SAS token in the URL's query (it carries its own signature; nothing is
//   added),
//   - SharedKey with AZURE_STORAGE_ACCESS_KEY (or AZURE_STORAGE_KEY), the
//   account being the
//     first label of the host,
//   - none (a public container).
// AZURE_STORAGE_BLOB_ENDPOINT (a Strata extension, e.g.
// http://127.0.0.1:10000/ACCOUNT) sends the same request to another endpoint,
// path-style, as the Azure SDKs do for azurite: the
// --context stays the production URL and only the place it is fetched from
// changes.
#include "auth/token.hpp"
#include "context/azure_shared_key.hpp"
#include "context/fetch.hpp"
#include "util/log.hpp"

namespace strata::context {
namespace {

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hexval = [](char c) -> int {
        if (c >= '0' && c <= '9')
          return c - '0';
        if (c >= 'a' && c <= 'f')
          return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
          return c - 'A' + 10;
        return -1;
      };
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

} // namespace

Result<void> fetch_azure_blob(const FetchEnv &env, const ContextSpec &spec,
                              const std::string &dest) {
  const std::string &url = spec.location;
  std::size_t host_start = url.find("://") + 3;
  std::size_t path_start = url.find('/', host_start);
  std::size_t query_start = url.find('?');
  if (path_start == std::string::npos || path_start > query_start)
    return fail(
        ErrorKind::invalid_argument,
        env.what +
            ": expected https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB");
  std::string host = url.substr(host_start, path_start - host_start);
  std::string account = host.substr(0, host.find('.'));
  std::string path = url.substr(path_start, query_start == std::string::npos
                                                ? std::string::npos
                                                : query_start - path_start);
  std::string query =
      query_start == std::string::npos ? "" : url.substr(query_start + 1);
  if (path.find('/', 1) == std::string::npos)
    return fail(
        ErrorKind::invalid_argument,
        env.what +
            ": expected https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB");

  std::string origin = url.substr(0, path_start);
  std::string endpoint = env_or(env.env, "AZURE_STORAGE_BLOB_ENDPOINT");
  if (!endpoint.empty()) {
    while (endpoint.ends_with("/"))
      endpoint.pop_back();
    std::size_t ep_path = endpoint.find('/', endpoint.find("://") + 3);
    path =
        (ep_path == std::string::npos ? "" : endpoint.substr(ep_path)) + path;
    origin = endpoint.substr(0, ep_path);
  }

  HttpGet get;
  get.url = origin + path + (query.empty() ? "" : "?" + query);
  get.shown_url = origin + path; // a SAS token is a credential
  get.tls = tls_from_env(env.env);
  bool has_sas = query.find("sig=") != std::string::npos;
  if (has_sas) {
    std::size_t sig = query.find("sig=");
    log::add_secret(query.substr(sig + 4, query.find('&', sig) - sig - 4));
  }
  std::string key = env_or(env.env, "AZURE_STORAGE_ACCESS_KEY",
                           env_or(env.env, "AZURE_STORAGE_KEY"));
  get.headers.add("x-ms-version", "2021-08-06");
  get.headers.add("x-ms-date", http_date_now());
  if (!has_sas && !key.empty()) {
    log::add_secret(key);
    AzureRequest req;
    req.method = "GET";
    req.path = path;
    for (const auto &[k, v] : get.headers.items())
      req.headers.emplace_back(k, v);
    std::string_view q = query;
    while (!q.empty()) {
      std::size_t amp = q.find('&');
      std::string_view kv = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view{}
                                        : q.substr(amp + 1);
      std::size_t eq = kv.find('=');
      req.query.emplace_back(percent_decode(kv.substr(0, eq)),
                             eq == std::string_view::npos
                                 ? ""
                                 : percent_decode(kv.substr(eq + 1)));
    }
    get.headers.add(
        "Authorization",
        TRY_CTX(azure_shared_key_authorization(req, account, key), env.what));
  }
  return download_and_extract(env, get, dest);
}

} // namespace strata::context
