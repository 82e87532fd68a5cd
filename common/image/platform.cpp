#include "image/platform.hpp"
#include "util/strings.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>

namespace strata::image {
namespace {

bool valid_specifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

bool known_os(std::string_view os) {
  static constexpr std::string_view k_oses[] = {"aix",   "android", "darwin", "dragonfly", "freebsd", "illumos",
                                                "ios",   "js",      "linux",  "netbsd",    "openbsd", "plan9",
                                                "solaris", "wasip1", "windows", "macos"};
  return std::find(std::begin(k_oses), std::end(k_oses), os) != std::end(k_oses);
}

std::string normalize_os(std::string_view os) {
  std::string out = util::ascii_lower(os);
  if (out == "macos") out = "darwin";
  return out;
}

// Parses the N of "vN" (or a bare "N"); -1 if the variant is not of that form.
int variant_level(std::string_view variant) {
  if (variant.starts_with('v')) variant.remove_prefix(1);
  if (variant.empty() || variant.size() > 3) return -1;
  int n = 0;
  for (char c : variant) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// Split "linux(10.0.1)" into "linux" and "10.0.1".
Result<std::pair<std::string_view, std::string_view>> split_os_version(std::string_view part,
                                                                       std::string_view text) {
  auto open = part.find('(');
  if (open == std::string_view::npos) return std::pair{part, std::string_view{}};
  if (!part.ends_with(')')) {
    return fail(ErrorKind::invalid_argument, "invalid platform '" + std::string(text) + "': bad os version");
  }
  auto version = part.substr(open + 1, part.size() - open - 2);
  if (!valid_specifier(version)) {
    return fail(ErrorKind::invalid_argument, "invalid platform '" + std::string(text) + "': bad os version");
  }
  return std::pair{part.substr(0, open), version};
}

}  // namespace

void normalize_arch(std::string& architecture, std::string& variant) {
  std::string arch = util::ascii_lower(architecture);
  std::string var = util::ascii_lower(variant);
  if (arch == "i386" || arch == "i686" || arch == "x86") {
    arch = "386";
    var.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (var == "v1") var.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (var == "8" || var == "v8" || var == "v8.0") var.clear();
    else if (var == "9" || var == "9.0" || var == "v9.0") var = "v9";
  } else if (arch == "armhf") {
    arch = "arm";
    var = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    var = "v6";
  } else if (arch == "arm") {
    if (var.empty() || var == "7") var = "v7";
    else if (var == "5" || var == "6" || var == "8") var = "v" + var;
  }
  architecture = std::move(arch);
  variant = std::move(var);
}

Result<Platform> Platform::parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorKind::invalid_argument,
                "invalid platform '" + std::string(text.substr(0, 200)) + "': " + std::string(why) +
                    " (expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8)");
  };
  if (text.empty()) return bad("empty");
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto slash = text.find('/', start);
    parts.push_back(text.substr(start, slash == std::string_view::npos ? text.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() > 3) return bad("too many components");

  Platform p;
  auto [os_part, os_version] = TRY(split_os_version(parts[0], text));
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (!valid_specifier(parts[i])) return bad("invalid component '" + std::string(parts[i]) + "'");
  }
  if (!valid_specifier(os_part)) return bad("invalid component '" + std::string(os_part) + "'");

  if (parts.size() == 1) {
    if (known_os(util::ascii_lower(os_part))) {
      Platform h = host();
      p.os = normalize_os(os_part);
      p.architecture = h.architecture;
      p.variant = h.variant;
    } else {
      if (!os_version.empty()) return bad("os version without an os");
      p.os = "linux";
      p.architecture = std::string(os_part);
    }
  } else {
    p.os = normalize_os(os_part);
    p.architecture = std::string(parts[1]);
    if (parts.size() == 3) p.variant = std::string(parts[2]);
  }
  p.os_version = std::string(os_version);
  normalize_arch(p.architecture, p.variant);
  // Keep arm64's variant visible in what users print: "linux/arm64/v8" stays as written.
  if (p.architecture == "arm64" && parts.size() == 3 && variant_level(parts[2]) == 8) p.variant = "v8";
  return p;
}

Platform Platform::host() {
  static const Platform k_host = [] {
    Platform p;
    p.os = "linux";
    struct utsname u {};
    std::string machine = ::uname(&u) == 0 ? u.machine : "";
    if (machine == "x86_64" || machine == "amd64") {
      p.architecture = "amd64";
    } else if (machine == "aarch64" || machine == "arm64" || machine == "armv8l" || machine == "aarch64_be") {
      p.architecture = "arm64";
      p.variant = "v8";
    } else if (machine.starts_with("armv7")) {
      p.architecture = "arm";
      p.variant = "v7";
    } else if (machine.starts_with("armv6")) {
      p.architecture = "arm";
      p.variant = "v6";
    } else if (machine.starts_with("armv5")) {
      p.architecture = "arm";
      p.variant = "v5";
    } else if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") {
      p.architecture = "386";
    } else if (machine == "ppc64le" || machine == "s390x" || machine == "riscv64" || machine == "mips64" ||
               machine == "loong64" || machine == "ppc64") {
      p.architecture = machine;
    } else if (machine == "loongarch64") {
      p.architecture = "loong64";
    } else {
      p.architecture = machine.empty() ? "unknown" : machine;
    }
    return p;
  }();
  return k_host;
}

std::string Platform::str() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Platform Platform::normalized() const {
  Platform p = *this;
  p.os = normalize_os(p.os);
  normalize_arch(p.architecture, p.variant);
  return p;
}

int match_rank(const Platform& wanted_in, const Platform& candidate_in) {
  Platform wanted = wanted_in.normalized();
  Platform candidate = candidate_in.normalized();
  if (wanted.os != candidate.os || wanted.architecture != candidate.architecture) return -1;
  if (wanted.os == "windows" && !wanted.os_version.empty() && !candidate.os_version.empty()) {
    // Windows containers need the same major.minor.build as the host kernel.
    auto prefix = [](const std::string& v) {
      std::size_t dots = 0, i = 0;
      for (; i < v.size(); ++i) {
        if (v[i] == '.' && ++dots == 3) break;
      }
      return v.substr(0, i);
    };
    if (prefix(wanted.os_version) != prefix(candidate.os_version)) return -1;
  }
  if (wanted.variant == candidate.variant) return 0;
  // Lower variants of arm and amd64 run on higher ones: arm v7 > v6 > v5, amd64 v3 > v2 > v1.
  if (wanted.architecture == "arm" || wanted.architecture == "amd64") {
    int w = wanted.variant.empty() ? 1 : variant_level(wanted.variant);
    int c = candidate.variant.empty() ? 1 : variant_level(candidate.variant);
    if (w < 0 || c < 0) return -1;
    int floor = wanted.architecture == "arm" ? 5 : 1;
    if (c <= w && c >= floor) return w - c;
  }
  return -1;
}

}  // namespace strata::image
