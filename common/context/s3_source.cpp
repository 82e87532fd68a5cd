// s3://BUCKET/KEY: one GetObject, signed with SigV4 (service "s3", payload hash
// of the empty body) when credentials are found, unsigned otherwise.
//
// Endpoint: S3_ENDPOINT (scheme optional, https assumed) or
// https://s3.REGION.amazonaws.com. Addressing: virtual-hosted (BUCKET.host) as
// AWS prefers, path-style (host/BUCKET/KEY) with S3_FORCE_PATH_STYLE=true, for
// a bucket name with dots (TLS wildcard certificates do not cover them), or
// when the endpoint's host is an IP address or localhost (no DNS for
// BUCKET.host).
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "context/aws_credentials.hpp"
#include "context/fetch.hpp"
#include "context/sigv4.hpp"

namespace strata::context {
namespace {

bool truthy(const std::string &v) {
  std::string l(v);
  std::transform(l.begin(), l.end(), l.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return l == "true" || l == "1" || l == "yes";
}

bool is_ip_or_localhost(std::string host) {
  if (auto colon = host.rfind(':'); colon != std::string::npos &&
                                    host.find(']') == std::string::npos &&
                                    host.find(':') == colon)
    host.resize(colon);
  if (host == "localhost" || host.starts_with("["))
    return true;
  in_addr a4{};
  return ::inet_pton(AF_INET, host.c_str(), &a4) == 1;
}

} // namespace

Result<void> fetch_s3(const FetchEnv &env, const ContextSpec &spec,
                      const std::string &dest) {
  std::size_t slash = spec.location.find('/');
  std::string bucket = spec.location.substr(0, slash);
  std::string key =
      slash == std::string::npos ? "" : spec.location.substr(slash + 1);
  if (bucket.empty() || key.empty())
    return fail(ErrorKind::invalid_argument,
                env.what + ": expected s3://BUCKET/KEY");
  std::string region = aws_region(env.env);
  auto creds = TRY_CTX(aws_credentials(env.env), env.what);

  std::string endpoint = env_or(env.env, "S3_ENDPOINT");
  if (endpoint.empty())
    endpoint = "https://s3." + region + ".amazonaws.com";
  if (endpoint.find("://") == std::string::npos)
    endpoint = "https://" + endpoint;
  while (endpoint.ends_with("/"))
    endpoint.pop_back();
  std::size_t scheme_end = endpoint.find("://") + 3;
  std::string scheme = endpoint.substr(0, scheme_end);
  std::string host = endpoint.substr(scheme_end);
  std::string base_path;
  if (auto p = host.find('/'); p != std::string::npos) {
    base_path = host.substr(p);
    host.resize(p);
  }
  bool path_style = truthy(env_or(env.env, "S3_FORCE_PATH_STYLE")) ||
                    bucket.find('.') != std::string::npos ||
                    is_ip_or_localhost(host);
  std::string path =
      path_style ? base_path + "/" + bucket + "/" + key : base_path + "/" + key;
  if (!path_style)
    host = bucket + "." + host;
  std::string encoded_path = s3_path(path);

  HttpGet get;
  get.url = scheme + host + encoded_path;
  get.shown_url = get.url;
  get.tls = tls_from_env(env.env);
  if (creds) {
    const AwsCredentials &c = *creds;
    SigV4Request req;
    req.method = "GET";
    req.path = encoded_path;
    req.payload_hash =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    SigV4Scope scope{amz_date_now(), region, "s3"};
    req.headers = {{"Host", host},
                   {"X-Amz-Date", scope.amz_date},
                   {"X-Amz-Content-Sha256", req.payload_hash}};
    if (!c.session_token.empty())
      req.headers.emplace_back("X-Amz-Security-Token", c.session_token);
    for (const auto &[name, value] : req.headers)
      get.headers.add(name, value);
    get.headers.add("Authorization", sigv4_authorization(req, scope, c));
  }
  return download_and_extract(env, get, dest);
}

} // namespace strata::context
