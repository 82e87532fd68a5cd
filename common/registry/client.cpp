// Manifests, tags, catalog and the push check. Blobs are in blob_fetch.cpp and blob_upload.cpp.
//
// Manifests are verified the way containerd does: the bytes served are hashed as they are, and
// that digest must equal the one the reference pins (and the Docker-Content-Digest header when
// the registry sends one); a manifest is never re-serialised, since any re-encoding changes its
// digest.
#include "registry/client.hpp"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "image/media_types.hpp"
#include "transport/curl_transport.hpp"
#include "util/log.hpp"

namespace strata::registry {
namespace {

using transport::Method;
using transport::status_error;

constexpr std::size_t k_max_manifest_size = 4 * 1024 * 1024;

std::string pull_scope(std::string_view repository) { return auth::repository_scope(repository, "pull"); }
std::string push_scope(std::string_view repository) { return auth::repository_scope(repository, "pull,push"); }

std::string what(const Call& call, std::string_view registry) {
  return std::string(transport::to_string(call.method)) + " " + std::string(registry) + call.target;
}

digest::Digest digest_of(std::string_view bytes, digest::Algorithm algorithm) {
  digest::Hasher hasher(algorithm);
  hasher.update(bytes);
  return hasher.finish();
}

// Compares Docker-Content-Digest, when present and parseable, with the bytes.
Result<void> check_content_digest(const transport::Headers& headers, std::string_view bytes, std::string_view context) {
  auto header = headers.get("Docker-Content-Digest");
  if (!header) return {};
  auto claimed = digest::Digest::parse(*header);
  if (!claimed) return {};  // some registries send junk here; the bytes are what we verify
  digest::Digest actual = digest_of(bytes, claimed->algorithm());
  if (actual != *claimed) {
    return fail(ErrorKind::corrupt, std::string(context) + ": Docker-Content-Digest " + claimed->str() +
                                        " does not match the content (" + actual.str() + ")");
  }
  return {};
}

std::string media_type_of(std::string_view bytes, const transport::Headers& headers) {
  try {
    auto j = nlohmann::json::parse(bytes);
    if (j.is_object()) {
      if (auto it = j.find("mediaType"); it != j.end() && it->is_string()) return it->get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
    // Not JSON: the Content-Type is all we have; the image parser will reject the bytes.
  }
  std::string type = headers.get("Content-Type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

}  // namespace

Result<std::size_t> BytesBlobSource::read(char* buf, std::size_t n) {
  std::size_t count = std::min(n, m_bytes.size() - m_offset);
  std::memcpy(buf, m_bytes.data() + m_offset, count);
  m_offset += count;
  return count;
}

Result<std::unique_ptr<Client>> Client::create(RegistryOptions options, LoginLookup logins,
                                               std::shared_ptr<transport::Transport> transport,
                                               transport::RetryEnv env) {
  if (options.retry.max_retries < 0) {
    return fail(ErrorKind::invalid_argument, "retry count must not be negative");
  }
  if (!transport) transport = std::make_shared<transport::CurlTransport>();
  transport::RetryEnv real = transport::RetryEnv::real();
  if (!env.sleep) env.sleep = real.sleep;
  if (!env.now) env.now = real.now;
  if (!env.random) env.random = real.random;
  auto session = std::make_unique<Session>(std::move(options), std::move(logins), std::move(transport), std::move(env));
  return std::unique_ptr<Client>(new Client(std::move(session)));
}

Result<ManifestResponse> Client::get_manifest_from(const PullSource& source, const image::Reference& ref) {
  Call call;
  call.registry = source.registry;
  call.purpose = Purpose::pull;
  call.target = "/v2/" + source.repository + "/manifests/" + ref.identifier();
  call.headers.add("Accept", std::string(image::media::manifest_accept));
  call.scopes = {pull_scope(source.repository)};
  call.follow_redirects = true;
  std::string context = what(call, source.registry);
  transport::Response response = TRY_CTX(m_session->call(call), context);
  if (response.status != 200) return fail(status_error(response.status, context, response.body));
  if (response.body.size() > k_max_manifest_size) {
    return fail(ErrorKind::corrupt, context + ": manifest larger than 4 MiB (" + std::to_string(response.body.size()) + " bytes)");
  }
  ManifestResponse out;
  auto algorithm = ref.digest() ? ref.digest()->algorithm() : digest::Algorithm::sha256;
  out.digest = digest_of(response.body, algorithm);
  if (ref.digest() && out.digest != *ref.digest()) {
    return fail(ErrorKind::corrupt, context + ": manifest digest " + out.digest.str() + " does not match the requested " +
                                        ref.digest()->str());
  }
  TRY(check_content_digest(response.headers, response.body, context));
  out.media_type = media_type_of(response.body, response.headers);
  out.source = source.registry;
  out.bytes = std::move(response.body);
  return out;
}

Result<ManifestResponse> Client::get_manifest(const image::Reference& ref) {
  auto sources = pull_sources(m_session->options(), ref.registry(), ref.repository());
  std::optional<Error> last;
  for (const auto& source : sources) {
    auto result = get_manifest_from(source, ref);
    if (result) {
      log::debug("manifest " + ref.str() + " from " + source.registry + "/" + source.repository);
      return result;
    }
    if (source.mirror) log::debug("mirror " + source.registry + " failed: " + result.error().message());
    last = result.error();
  }
  return fail(*last);
}

Result<ManifestInfo> Client::head_manifest(const image::Reference& ref) {
  Call call;
  call.method = Method::head;
  call.registry = ref.registry();
  call.target = "/v2/" + ref.repository() + "/manifests/" + ref.identifier();
  call.headers.add("Accept", std::string(image::media::manifest_accept));
  call.scopes = {pull_scope(ref.repository())};
  call.follow_redirects = true;
  std::string context = what(call, ref.registry());
  transport::Response response = TRY_CTX(m_session->call(call), context);
  if (response.status != 200) return fail(status_error(response.status, context, ""));
  auto header = response.headers.get("Docker-Content-Digest");
  auto length = response.headers.get("Content-Length");
  auto type = response.headers.get("Content-Type");
  auto parsed = header ? digest::Digest::parse(*header) : Result<digest::Digest>(fail(ErrorKind::corrupt, ""));
  if (!parsed || !length || !type || (ref.digest() && *parsed != *ref.digest())) {
    // Not enough (or inconsistent) metadata: fetch and hash the manifest instead of trusting it.
    ManifestResponse full = TRY(get_manifest(ref));
    return ManifestInfo{full.media_type, full.digest, full.bytes.size()};
  }
  ManifestInfo info;
  info.digest = *parsed;
  info.size = std::strtoull(length->c_str(), nullptr, 10);
  info.media_type = type->substr(0, type->find(';'));
  return info;
}

Result<digest::Digest> Client::put_manifest(const image::Reference& ref, std::string_view bytes,
                                            std::string_view media_type) {
  Call call;
  call.method = Method::put;
  call.registry = ref.registry();
  call.purpose = Purpose::push;
  call.target = "/v2/" + ref.repository() + "/manifests/" + ref.identifier();
  call.headers.add("Content-Type", std::string(media_type));
  call.body_bytes = std::string(bytes);
  call.scopes = {push_scope(ref.repository())};
  std::string context = what(call, ref.registry());
  transport::Response response = TRY_CTX(m_session->call(call), context);
  if (response.status < 200 || response.status >= 300) {
    return fail(status_error(response.status, context, response.body));
  }
  TRY(check_content_digest(response.headers, bytes, context));
  auto algorithm = ref.digest() ? ref.digest()->algorithm() : digest::Algorithm::sha256;
  return digest_of(bytes, algorithm);
}

Result<void> Client::delete_manifest(const image::Reference& repo, const digest::Digest& d) {
  Call call;
  call.method = Method::del;
  call.registry = repo.registry();
  call.purpose = Purpose::push;
  call.target = "/v2/" + repo.repository() + "/manifests/" + d.str();
  call.scopes = {auth::repository_scope(repo.repository(), "delete")};
  std::string context = what(call, repo.registry());
  transport::Response response = TRY_CTX(m_session->call(call), context);
  if (response.status == 405) {
    return fail(ErrorKind::unsupported, context + ": the registry does not allow deletes (HTTP 405)");
  }
  if (response.status < 200 || response.status >= 300) {
    return fail(status_error(response.status, context, response.body));
  }
  return {};
}

Result<std::vector<std::string>> Client::paginate(const std::string& registry, Purpose purpose, std::string target,
                                                  const std::vector<std::string>& scopes, const char* field) {
  std::vector<std::string> out;
  // A Link loop (a buggy registry pointing at the same page) must not run forever.
  for (int page = 0; page < 10'000 && !target.empty(); ++page) {
    Call call;
    call.registry = registry;
    call.purpose = purpose;
    call.target = target;
    call.scopes = scopes;
    call.follow_redirects = true;
    std::string context = what(call, registry);
    transport::Response response = TRY_CTX(m_session->call(call), context);
    if (response.status != 200) return fail(status_error(response.status, context, response.body));
    try {
      auto j = nlohmann::json::parse(response.body);
      if (!j.is_object()) return fail(ErrorKind::corrupt, context + ": response is not a JSON object");
      if (auto it = j.find(field); it != j.end() && it->is_array()) {
        for (const auto& v : *it) {
          if (v.is_string()) out.push_back(v.get<std::string>());
        }
      }
    } catch (const nlohmann::json::exception& e) {
      return fail(ErrorKind::corrupt, context + ": invalid JSON: " + e.what());
    }
    std::string base = target.find("://") != std::string::npos ? target : TRY(m_session->base_url(registry, purpose)) + target;
    target = next_link(base, response.headers.get_all("Link"));
  }
  return out;
}

Result<std::vector<std::string>> Client::list_tags(const image::Reference& repo) {
  return paginate(repo.registry(), Purpose::pull, "/v2/" + repo.repository() + "/tags/list",
                  {pull_scope(repo.repository())}, "tags");
}

Result<std::vector<std::string>> Client::list_repositories(const std::string& registry) {
  return paginate(registry, Purpose::pull, "/v2/_catalog", {"registry:catalog:*"}, "repositories");
}

Result<void> Client::check_push(const image::Reference& repo) {
  std::string context = "checking push access to " + repo.registry() + "/" + repo.repository();
  TRY_CTX(m_session->token_for(repo.registry(), Purpose::push, {push_scope(repo.repository())}), context);
  Call call;
  call.method = Method::post;
  call.registry = repo.registry();
  call.purpose = Purpose::push;
  call.target = "/v2/" + repo.repository() + "/blobs/uploads/";
  call.scopes = {push_scope(repo.repository())};
  transport::Response response = TRY_CTX(m_session->call(call), context);
  if (response.status != 202) return fail(status_error(response.status, context, response.body));
  if (auto location = response.headers.get("Location")) {
    Call cancel;
    cancel.method = Method::del;
    cancel.registry = repo.registry();
    cancel.purpose = Purpose::push;
    cancel.target = resolve_url(TRY(m_session->base_url(repo.registry(), Purpose::push)) + call.target, *location);
    cancel.scopes = call.scopes;
    cancel.retry = false;
    auto cancelled = m_session->call(cancel);
    if (!cancelled || cancelled->status >= 300) log::debug(context + ": could not cancel the probe upload");
  }
  return {};
}

}  // namespace strata::registry
