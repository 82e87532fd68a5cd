// Image references, normalised exactly as Docker does (distribution/reference):
//   busybox                    → docker.io/library/busybox:latest
//   user/app                   → docker.io/user/app:latest
//   host:5000/a/b:tag          → host:5000/a/b:tag      (a first component with '.', ':' or
//   localhost/app              → localhost/app:latest    equal to "localhost" is a registry)
//   repo@sha256:<hex>          → digest only, no tag
//   repo:tag@sha256:<hex>      → both kept; the digest is what is fetched
// Repository components are lowercase [a-z0-9] runs joined by '.', '_', '__' or '-'+; tags are
// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; the repository path is at most 255 characters (as in
// distribution/reference v0.6; the registry part is not counted).
//
// Reference is a plain value: copyable, immutable through its API, safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "digest/digest.hpp"
#include "util/result.hpp"

namespace strata::image {

inline constexpr std::string_view k_docker_hub = "docker.io";
inline constexpr std::string_view k_docker_hub_api_host = "registry-1.docker.io";

class Reference {
 public:
  // Parses and normalises. Errors are invalid_argument and say what is wrong
  // ("invalid reference format: repository name must be lowercase: 'Busybox'").
  // A reference with neither tag nor digest gets the tag "latest".
  static Result<Reference> parse(std::string_view text);

  const std::string& registry() const { return m_registry; }      // "docker.io", "127.0.0.1:5000"
  const std::string& repository() const { return m_repository; }  // "library/busybox"
  const std::string& tag() const { return m_tag; }                // "" when only a digest was given
  const std::optional<digest::Digest>& digest() const { return m_digest; }

  // Host to talk to: "registry-1.docker.io" for docker.io, otherwise registry().
  std::string api_host() const;
  // "docker.io/library/busybox"
  std::string name() const;
  // Fully normalised: "docker.io/library/busybox:latest", "h:5000/r@sha256:..", "h/r:t@sha256:..".
  std::string str() const;
  // Docker's short form: "busybox:latest", "user/app:1", "host:5000/r:t". Unlike Docker, a Hub
  // path whose first component looks like a registry keeps "docker.io/", so it parses back.
  std::string familiar() const;
  // What to ask the registry for: the digest string when pinned, otherwise the tag.
  std::string identifier() const;

  // The with_* builders do not validate: check caller-supplied text with is_valid_tag() /
  // is_valid_registry() first.
  Reference with_tag(std::string tag) const;  // drops the digest
  Reference with_digest(digest::Digest digest) const;  // keeps the tag
  Reference with_registry(std::string registry) const;  // for mirrors and --registry-map

  static bool is_valid_tag(std::string_view tag);
  // "host", "host:port", "[v6::addr]:port" as the reference grammar allows.
  static bool is_valid_registry(std::string_view registry);

  friend bool operator==(const Reference&, const Reference&) = default;

 private:
  std::string m_registry;
  std::string m_repository;
  std::string m_tag;
  std::optional<digest::Digest> m_digest;
};

}  // namespace strata::image
