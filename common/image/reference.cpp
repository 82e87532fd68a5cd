// Reference parsing follows distribution/reference's ParseNormalizedNamed + TagNameOnly, without
// regular expressions: the grammar is small enough to check by hand, which keeps parsing linear
// and lets each failure say which part is wrong.
//
//   reference  := [domain '/'] path [':' tag] ['@' digest]
//   domain     := host [':' port]      host := dns-name | '[' ipv6-hex ']'
//   dns-name   := component ('.' component)*   component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
//   path       := path-comp ('/' path-comp)*   path-comp := [a-z0-9]+ (sep [a-z0-9]+)*
//   sep        := '.' | '_' | '__' | '-'+
//   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest     := algorithm ':' hex{32,}   (then validated by digest::Digest::parse)
//
// Domain splitting (splitDockerDomain): the text before the first '/' is a registry when it is
// "localhost", contains '.' or ':', or has an uppercase letter; otherwise the registry is docker.io.
// "index.docker.io" is folded into "docker.io", and a single-component Docker Hub path gets the
// "library/" prefix. Like Docker, the repository path (not the registry) is limited to 255 bytes.
#include "image/reference.hpp"

#include <algorithm>

namespace strata::image {
namespace {

constexpr std::size_t k_max_path_length = 255;
constexpr std::size_t k_max_tag_length = 128;
constexpr std::string_view k_legacy_hub = "index.docker.io";
constexpr std::string_view k_default_tag = "latest";

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool valid_path_component(std::string_view c) {
  std::size_t i = 0;
  auto run = [&] {
    std::size_t start = i;
    while (i < c.size() && is_lower_alnum(c[i])) ++i;
    return i > start;
  };
  if (!run()) return false;
  while (i < c.size()) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (!run()) return false;
  }
  return true;
}

bool valid_path(std::string_view path) {
  if (path.empty()) return false;
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    if (!valid_path_component(path.substr(start, slash == std::string_view::npos ? path.npos : slash - start))) {
      return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool valid_dns_component(std::string_view c) {
  if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
  return std::all_of(c.begin(), c.end(), [](char ch) { return is_alnum(ch) || ch == '-'; });
}

bool valid_domain(std::string_view domain) {
  std::string_view host = domain;
  std::string_view port;
  if (!domain.empty() && domain.front() == '[') {
    auto close = domain.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    auto inner = domain.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(), [](char c) { return is_hex(c) || c == ':'; })) return false;
    host = domain.substr(0, close + 1);
    auto rest = domain.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else {
    auto colon = domain.find(':');
    if (colon != std::string_view::npos) {
      host = domain.substr(0, colon);
      port = domain.substr(colon + 1);
      if (port.empty()) return false;
    }
    std::size_t start = 0;
    while (true) {
      auto dot = host.find('.', start);
      if (!valid_dns_component(host.substr(start, dot == std::string_view::npos ? host.npos : dot - start))) {
        return false;
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  return std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > k_max_tag_length || !is_word(tag.front())) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

// The shape distribution's DigestRegexp accepts, before the algorithm is looked up.
bool digest_shaped(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  auto algo = text.substr(0, colon);
  auto hex = text.substr(colon + 1);
  if (hex.size() < 32 || !std::all_of(hex.begin(), hex.end(), is_hex)) return false;
  bool expect_letter = true;
  for (char c : algo) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (expect_letter) {
      if (!letter) return false;
      expect_letter = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      expect_letter = true;
    } else if (!is_alnum(c)) {
      return false;
    }
  }
  return !algo.empty() && !expect_letter;
}

bool is_hex64_identifier(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string quoted(std::string_view text) {
  constexpr std::size_t k_max_shown = 300;
  std::string out = "'";
  out += text.substr(0, k_max_shown);
  if (text.size() > k_max_shown) out += "...";
  out += "'";
  return out;
}

tl::unexpected<Error> invalid(std::string_view why, std::string_view text) {
  std::string message = "invalid reference format";
  if (!why.empty()) {
    message += ": ";
    message += why;
  }
  message += ": ";
  message += quoted(text);
  return fail(ErrorKind::invalid_argument, std::move(message));
}

}  // namespace

Result<Reference> Reference::parse(std::string_view text) {
  if (text.empty()) return fail(ErrorKind::invalid_argument, "invalid reference format: empty image reference");
  if (is_hex64_identifier(text)) {
    return fail(ErrorKind::invalid_argument,
                "invalid repository name " + quoted(text) + ": cannot specify 64-byte hexadecimal strings");
  }

  Reference ref;
  std::string_view remainder = text;
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    ref.m_registry = std::string(k_docker_hub);
  } else {
    std::string_view first = text.substr(0, slash);
    if (first == "localhost" || first.find_first_of(".:") != std::string_view::npos || has_upper(first)) {
      ref.m_registry = std::string(first);
      remainder = text.substr(slash + 1);
    } else {
      ref.m_registry = std::string(k_docker_hub);
    }
  }
  if (ref.m_registry == k_legacy_hub) ref.m_registry = std::string(k_docker_hub);

  std::string_view path = remainder;
  std::string_view digest_text;
  bool has_digest = false;
  if (auto at = remainder.find('@'); at != std::string_view::npos) {
    path = remainder.substr(0, at);
    digest_text = remainder.substr(at + 1);
    has_digest = true;
  }
  std::string_view tag_text;
  bool has_tag = false;
  if (auto colon = path.find(':'); colon != std::string_view::npos) {
    tag_text = path.substr(colon + 1);
    path = path.substr(0, colon);
    has_tag = true;
  }

  if (!valid_domain(ref.m_registry)) return invalid("invalid registry '" + ref.m_registry + "'", text);
  if (has_upper(path)) return invalid("repository name must be lowercase", text);
  if (path.empty()) return invalid("repository name must have at least one component", text);
  if (!valid_path(path)) return invalid("invalid repository name '" + std::string(path.substr(0, 300)) + "'", text);
  if (has_tag && !valid_tag(tag_text)) return invalid("invalid tag", text);
  if (has_digest) {
    if (!digest_shaped(digest_text)) return invalid("invalid digest", text);
    auto parsed = digest::Digest::parse(digest_text);
    if (!parsed) return invalid(parsed.error().message(), text);
    ref.m_digest = std::move(*parsed);
  }

  ref.m_repository = std::string(path);
  if (ref.m_registry == k_docker_hub && ref.m_repository.find('/') == std::string::npos) {
    ref.m_repository.insert(0, "library/");
  }
  if (ref.m_repository.size() > k_max_path_length) {
    return invalid("repository name must not be more than 255 characters", text);
  }
  if (has_tag) ref.m_tag = std::string(tag_text);
  else if (!has_digest) ref.m_tag = std::string(k_default_tag);
  return ref;
}

bool Reference::is_valid_tag(std::string_view tag) { return valid_tag(tag); }
bool Reference::is_valid_registry(std::string_view registry) { return valid_domain(registry); }

std::string Reference::api_host() const {
  if (m_registry == k_docker_hub) return std::string(k_docker_hub_api_host);
  return m_registry;
}

std::string Reference::name() const { return m_registry + "/" + m_repository; }

std::string Reference::str() const {
  std::string out = name();
  if (!m_tag.empty()) out += ":" + m_tag;
  if (m_digest) out += "@" + m_digest->str();
  return out;
}

std::string Reference::familiar() const {
  std::string out;
  if (m_registry == k_docker_hub) {
    constexpr std::string_view k_library = "library/";
    std::string_view path = m_repository;
    if (path.starts_with(k_library) && path.substr(k_library.size()).find('/') == std::string_view::npos) {
      path.remove_prefix(k_library.size());
    }
    // Docker would print "docker.io/foo.bar/x" as "foo.bar/x", which reads back as registry
    // foo.bar; keep the registry whenever the short form would be misread.
    auto first = path.substr(0, path.find('/'));
    bool ambiguous = path.find('/') != std::string_view::npos &&
                     (first == "localhost" || first.find_first_of(".:") != std::string_view::npos);
    out = ambiguous ? name() : std::string(path);
  } else {
    out = name();
  }
  if (!m_tag.empty()) out += ":" + m_tag;
  if (m_digest) out += "@" + m_digest->str();
  return out;
}

std::string Reference::identifier() const { return m_digest ? m_digest->str() : m_tag; }

Reference Reference::with_tag(std::string tag) const {
  Reference copy = *this;
  copy.m_tag = std::move(tag);
  copy.m_digest.reset();
  return copy;
}

Reference Reference::with_digest(digest::Digest digest) const {
  Reference copy = *this;
  copy.m_digest = std::move(digest);
  return copy;
}

Reference Reference::with_registry(std::string registry) const {
  Reference copy = *this;
  copy.m_registry = registry == k_legacy_hub ? std::string(k_docker_hub) : std::move(registry);
  return copy;
}

}  // namespace strata::image
