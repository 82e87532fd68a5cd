#include "context/context_spec.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace strata::context {
namespace {

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i])
      return false;
  }
  return true;
}

std::string_view url_host(std::string_view url) {
  std::size_t scheme = url.find("://");
  std::string_view rest =
      scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos)
    rest = rest.substr(at + 1);
  return rest.substr(0, rest.find(':'));
}

bool is_hex_commit(std::string_view s) {
  return (s.size() == 40 || s.size() == 64) &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

Result<bool> parse_bool(std::string_view key, std::string_view value) {
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "1" || v == "t" || v == "yes")
    return true;
  if (v == "false" || v == "0" || v == "f" || v == "no")
    return false;
  return fail(ErrorKind::invalid_argument, "--git " + std::string(key) + "=" +
                                               std::string(value) +
                                               ": expected true or false");
}

} // namespace

std::string_view to_string(Kind kind) {
  switch (kind) {
  case Kind::dir:
    return "directory";
  case Kind::tar_file:
    return "tar file";
  case Kind::tar_stdin:
    return "tar from stdin";
  case Kind::git:
    return "git repository";
  case Kind::s3:
    return "S3 object";
  case Kind::gcs:
    return "GCS object";
  case Kind::azure_blob:
    return "Azure blob";
  case Kind::https_tar:
    return "HTTPS tarball";
  }
  return "context";
}

bool is_azure_blob_host(std::string_view host) {
  for (std::string_view suffix :
       {".blob.core.windows.net", ".blob.core.chinacloudapi.cn",
        ".blob.core.usgovcloudapi.net", ".blob.core.cloudapi.de"}) {
    if (host.size() > suffix.size() && host.ends_with(suffix))
      return true;
  }
  return false;
}

Result<ContextSpec> parse_context(std::string_view context) {
  ContextSpec spec;
  spec.original = std::string(context);
  if (context.empty())
    return fail(ErrorKind::invalid_argument, "--context: empty");
  auto rest = [&](std::size_t n) { return std::string(context.substr(n)); };
  if (starts_with_icase(context, "dir://")) {
    spec.kind = Kind::dir;
    spec.location = rest(6);
  } else if (starts_with_icase(context, "tar://")) {
    spec.location = rest(6);
    spec.kind = spec.location == "stdin" ? Kind::tar_stdin : Kind::tar_file;
  } else if (starts_with_icase(context, "git://")) {
    spec.kind = Kind::git;
    spec.location = spec.original;
  } else if (starts_with_icase(context, "s3://")) {
    spec.kind = Kind::s3;
    spec.location = rest(5);
  } else if (starts_with_icase(context, "gs://")) {
    spec.kind = Kind::gcs;
    spec.location = rest(5);
  } else if (starts_with_icase(context, "https://") ||
             starts_with_icase(context, "http://")) {
    spec.location = spec.original;
    std::string_view path = context.substr(0, context.find_first_of("?#"));
    if (is_azure_blob_host(url_host(context))) {
      spec.kind = Kind::azure_blob;
    } else if (context.find('#') != std::string_view::npos ||
               path.ends_with(".git") || path.ends_with(".git/")) {
      spec.kind = Kind::git;
    } else {
      spec.kind = Kind::https_tar;
    }
  } else if (context.find("://") != std::string_view::npos) {
    return fail(ErrorKind::invalid_argument,
                "--context " + spec.original +
                    ": unknown scheme (expected a path, dir://, tar://, "
                    "git://, s3://, gs:// or https://)");
  } else {
    spec.kind = Kind::dir;
    spec.location = spec.original;
  }
  if (spec.location.empty())
    return fail(ErrorKind::invalid_argument,
                "--context " + spec.original + ": empty location");
  return spec;
}

Result<GitOptions> parse_git_options(const std::vector<std::string> &items) {
  GitOptions out;
  for (const auto &item : items) {
    std::string_view all(item);
    while (!all.empty()) {
      std::size_t comma = all.find(',');
      std::string_view pair = all.substr(0, comma);
      all = comma == std::string_view::npos ? std::string_view{}
                                            : all.substr(comma + 1);
      if (pair.empty())
        continue;
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos)
        return fail(ErrorKind::invalid_argument,
                    "--git " + std::string(pair) + ": expected key=value");
      std::string_view key = pair.substr(0, eq), value = pair.substr(eq + 1);
      if (key == "branch")
        out.branch = std::string(value);
      else if (key == "single-branch")
        out.single_branch = TRY(parse_bool(key, value));
      else if (key == "recurse-submodules")
        out.recurse_submodules = TRY(parse_bool(key, value));
      else if (key == "insecure-skip-tls")
        out.insecure_skip_tls = TRY(parse_bool(key, value));
      else
        return fail(ErrorKind::invalid_argument,
                    "--git " + std::string(key) +
                        ": unknown option (branch, single-branch, "
                        "recurse-submodules, insecure-skip-tls)");
    }
  }
  if (out.branch.starts_with("-"))
    return fail(ErrorKind::invalid_argument,
                "--git branch=" + out.branch + ": invalid");
  return out;
}

Result<GitLocation> split_git_location(std::string_view url) {
  GitLocation out;
  std::size_t hash = url.find('#');
  out.url = std::string(url.substr(0, hash));
  if (hash != std::string_view::npos) {
    std::string_view frag = url.substr(hash + 1);
    std::size_t second = frag.find('#');
    out.ref = std::string(frag.substr(0, second));
    if (second != std::string_view::npos)
      out.commit = std::string(frag.substr(second + 1));
  }
  if (out.commit.empty() && is_hex_commit(out.ref))
    std::swap(out.ref, out.commit);
  auto bad = [&](std::string_view why) {
    return fail(ErrorKind::invalid_argument,
                "git context " + out.url + ": " + std::string(why));
  };
  if (out.url.find("://") == std::string::npos)
    return bad("not a URL");
  if (url_host(out.url).empty())
    return bad("no host");
  // Everything below becomes a git argument: never let it read as an option.
  if (out.ref.starts_with("-") ||
      out.ref.find_first_of(" \t\n:") != std::string::npos)
    return bad("invalid ref " + out.ref);
  if (!out.commit.empty() && !is_hex_commit(out.commit))
    return bad("invalid commit " + out.commit + " (expected a full hex id)");
  return out;
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char *v = std::getenv(std::string(name).c_str());
    if (v == nullptr)
      return std::nullopt;
    return std::string(v);
  };
}

std::string env_or(const EnvLookup &env, std::string_view name,
                   std::string_view fallback) {
  auto v = env(name);
  return v && !v->empty() ? *v : std::string(fallback);
}

} // namespace strata::context
