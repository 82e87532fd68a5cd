// Values of instruction flags: RUN --mount specs (BuildKit's runmount.go), --chmod, EXPOSE ports,
// HEALTHCHECK durations (Go's time.ParseDuration) and tmpfs sizes (go-units RAMInBytes).
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "dockerfile/go_text.hpp"
#include "dockerfile/instructions.hpp"

namespace strata::dockerfile {
namespace {

tl::unexpected<Error> bad(std::string message) { return strata::fail(ErrorKind::invalid_argument, std::move(message)); }

// Go's strconv.ParseBool.
std::optional<bool> parse_bool(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False") return false;
  return std::nullopt;
}

std::optional<std::uint32_t> parse_uint32(std::string_view v, unsigned base) {
  if (v.empty() || v.size() > 12) return std::nullopt;
  std::uint64_t out = 0;
  for (char c : v) {
    unsigned d = static_cast<unsigned>(c - '0');
    if (c < '0' || d >= base) return std::nullopt;
    out = out * base + d;
  }
  if (out > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(out);
}

// encoding/csv, one record: fields split on ',', a field may be "quoted" with "" for a quote.
Result<std::vector<std::string>> csv_fields(std::string_view text) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (true) {
        if (i >= text.size()) return bad("unterminated quote in mount spec " + detail::go_quote(text));
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(text[i++]);
      }
      if (i < text.size() && text[i] != ',') return bad("extraneous text after quoted field in mount spec " + detail::go_quote(text));
    } else {
      std::size_t end = text.find(',', i);
      if (end == std::string_view::npos) end = text.size();
      field = std::string(text.substr(i, end - i));
      if (field.find('"') != std::string::npos) return bad("bare \" in mount field " + detail::go_quote(field));
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= text.size()) break;
    ++i;  // ','
  }
  return fields;
}

// go-units RAMInBytes: "64m", "1.5g", "100", "2GiB" (binary multiples).
std::optional<std::uint64_t> ram_in_bytes(std::string_view v) {
  std::size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  if (i == 0) return std::nullopt;
  if (i < v.size() && v[i] == '.') {
    std::size_t start = ++i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    if (i == start) return std::nullopt;
  }
  double number = std::strtod(std::string(v.substr(0, i)).c_str(), nullptr);
  if (i < v.size() && v[i] == ' ') ++i;
  double mult = 1;
  if (i < v.size()) {
    switch (std::tolower(static_cast<unsigned char>(v[i]))) {
      case 'k': mult = 1024.0; break;
      case 'm': mult = 1024.0 * 1024; break;
      case 'g': mult = 1024.0 * 1024 * 1024; break;
      case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
      case 'p': mult = 1024.0 * 1024 * 1024 * 1024 * 1024; break;
      default: mult = 0;
    }
    if (mult != 0) ++i; else mult = 1;
  }
  if (i < v.size() && (v[i] == 'i' || v[i] == 'I')) ++i;
  if (i < v.size() && (v[i] == 'b' || v[i] == 'B')) ++i;
  if (i != v.size()) return std::nullopt;
  double bytes = number * mult;
  if (!(bytes < 1.8e19)) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

bool is_symbolic_chmod(std::string_view text) {
  // [ugoa]*([-+=]([rwxXst]*|[ugo]))+ , comma separated
  std::size_t i = 0;
  while (true) {
    while (i < text.size() && std::string_view("ugoa").find(text[i]) != std::string_view::npos) ++i;
    if (i >= text.size() || std::string_view("+-=").find(text[i]) == std::string_view::npos) return false;
    while (i < text.size() && std::string_view("+-=").find(text[i]) != std::string_view::npos) {
      ++i;
      if (i < text.size() && std::string_view("ugo").find(text[i]) != std::string_view::npos) {
        ++i;
        continue;
      }
      while (i < text.size() && std::string_view("rwxXst").find(text[i]) != std::string_view::npos) ++i;
    }
    if (i == text.size()) return true;
    if (text[i] != ',') return false;
    ++i;
  }
}

}  // namespace

std::string_view to_string(MountType type) {
  switch (type) {
    case MountType::bind: return "bind";
    case MountType::cache: return "cache";
    case MountType::tmpfs: return "tmpfs";
    case MountType::secret: return "secret";
    case MountType::ssh: return "ssh";
  }
  return "bind";
}

std::string_view to_string(MountSharing sharing) {
  switch (sharing) {
    case MountSharing::shared: return "shared";
    case MountSharing::private_: return "private";
    case MountSharing::locked: return "locked";
  }
  return "shared";
}

Result<Mount> parse_mount(std::string_view spec) {
  Mount m;
  m.spec = std::string(spec);
  m.needs_expansion = spec.find('$') != std::string_view::npos;
  bool ro_auto = true;
  bool sharing_set = false;
  auto fields = TRY(csv_fields(spec));
  auto typed = [&] { return !m.needs_expansion; };
  for (const std::string& field : fields) {
    std::size_t eq = field.find('=');
    std::string key = detail::to_lower(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        m.readonly = true, ro_auto = false;
      } else if (key == "readwrite" || key == "rw") {
        m.readonly = false, ro_auto = false;
      } else if (key == "required") {
        if (m.type != MountType::secret && m.type != MountType::ssh)
          return bad("unexpected key 'required' for mount type '" + std::string(to_string(m.type)) + "'");
        m.required = true;
      } else {
        return bad("invalid field '" + field + "' must be a key=value pair");
      }
      continue;
    }
    std::string value = field.substr(eq + 1);
    bool raw = value.find('$') != std::string::npos;
    auto boolean = [&](std::string_view what) -> Result<bool> {
      if (raw) return true;
      auto b = parse_bool(value);
      if (!b) return bad("invalid value for " + std::string(what) + ": " + detail::go_quote(value));
      return *b;
    };
    auto number = [&](unsigned base) -> Result<std::optional<std::uint32_t>> {
      if (raw) return std::optional<std::uint32_t>();
      auto n = parse_uint32(value, base);
      if (!n) return bad("invalid value for " + key + ": " + detail::go_quote(value));
      return n;
    };
    if (key == "type") {
      std::string t = detail::to_lower(value);
      if (t == "bind") m.type = MountType::bind;
      else if (t == "cache") m.type = MountType::cache;
      else if (t == "tmpfs") m.type = MountType::tmpfs;
      else if (t == "secret") m.type = MountType::secret;
      else if (t == "ssh") m.type = MountType::ssh;
      else if (!raw) return bad("unsupported mount type " + detail::go_quote(value) + " (bind, cache, tmpfs, secret or ssh)");
    } else if (key == "target" || key == "dst" || key == "destination" || key == "dest") {
      m.target = value;
    } else if (key == "readonly" || key == "ro") {
      m.readonly = TRY(boolean(key)), ro_auto = false;
    } else if (key == "readwrite" || key == "rw") {
      m.readonly = !TRY(boolean(key)), ro_auto = false;
    } else if (key == "required") {
      if (m.type != MountType::secret && m.type != MountType::ssh)
        return bad("unexpected key 'required' for mount type '" + std::string(to_string(m.type)) + "'");
      m.required = TRY(boolean(key));
    } else if (key == "from") {
      m.from = value;
    } else if (key == "source" || key == "src") {
      m.source = value;
    } else if (key == "id") {
      m.id = value;
    } else if (key == "sharing") {
      std::string s = detail::to_lower(value);
      sharing_set = !value.empty();
      if (s == "shared" || s.empty()) m.sharing = MountSharing::shared;
      else if (s == "private") m.sharing = MountSharing::private_;
      else if (s == "locked") m.sharing = MountSharing::locked;
      else if (!raw) return bad("unsupported sharing value " + detail::go_quote(value) + " (shared, private or locked)");
    } else if (key == "mode") {
      m.mode = TRY(number(8));
    } else if (key == "uid") {
      m.uid = TRY(number(10));
    } else if (key == "gid") {
      m.gid = TRY(number(10));
    } else if (key == "env") {
      m.env = value;
    } else if (key == "size") {
      if (!raw) {
        auto size = ram_in_bytes(value);
        if (!size) return bad("invalid value for size: " + detail::go_quote(value));
        m.size = size;
      }
    } else {
      return bad("unexpected key '" + key + "' in '" + field + "'");
    }
  }
  if (!typed()) return m;

  std::string type_name(to_string(m.type));
  bool file_info = m.type == MountType::secret || m.type == MountType::ssh || m.type == MountType::cache;
  if (!file_info) {
    if (m.mode) return bad("unexpected key 'mode' for mount type '" + type_name + "'");
    if (m.uid) return bad("unexpected key 'uid' for mount type '" + type_name + "'");
    if (m.gid) return bad("unexpected key 'gid' for mount type '" + type_name + "'");
  }
  if (ro_auto) m.readonly = !(m.type == MountType::cache || m.type == MountType::tmpfs);
  if (sharing_set && m.type != MountType::cache) return bad("invalid cache sharing set for " + type_name + " mount");
  if (m.env && m.type != MountType::secret) return bad("unexpected key 'env' for mount type '" + type_name + "'");
  if (m.size && m.type != MountType::tmpfs) return bad("unexpected key 'size' for mount type '" + type_name + "'");
  if (m.type == MountType::secret || m.type == MountType::ssh) {
    if (!m.from.empty()) return bad(type_name + " mount should not have a from");
    if (!m.source.empty()) return bad(type_name + " source not supported");
  }
  if (m.type == MountType::secret) {
    if (m.id.empty() && m.target.empty() && !m.env) return bad("secret mount needs an id or a target");
    if (m.id.empty() && !m.target.empty()) {
      std::string t = m.target;
      while (t.size() > 1 && t.back() == '/') t.pop_back();
      m.id = t.substr(t.rfind('/') + 1);
    }
    if (m.target.empty() && !m.env) m.target = "/run/secrets/" + m.id;
  } else if (m.type == MountType::ssh) {
    if (m.id.empty()) m.id = "default";
  } else if (m.target.empty()) {
    return bad(type_name + " mount needs a target");
  }
  return m;
}

Result<Chmod> parse_chmod(std::string_view text) {
  Chmod c{std::string(text), std::nullopt};
  if (auto octal = parse_uint32(text, 8)) {
    if (*octal > 07777) return bad("invalid chmod parameter " + detail::go_quote(text) + ": above 07777");
    c.octal = octal;
    return c;
  }
  if (!is_symbolic_chmod(text)) return bad("invalid chmod parameter " + detail::go_quote(text) + " (octal like 0755 or symbolic like u+x,g-w)");
  return c;
}

Result<PortSpec> parse_port(std::string_view text) {
  PortSpec p;
  std::string_view ports = text;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    std::string proto = detail::to_lower(text.substr(slash + 1));
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      return bad("invalid protocol in port " + detail::go_quote(text) + " (tcp, udp or sctp)");
    p.protocol = proto;
    ports = text.substr(0, slash);
  }
  if (ports.find(':') != std::string_view::npos) return bad("EXPOSE does not take a port mapping: " + detail::go_quote(text));
  std::string_view first = ports, last = ports;
  if (auto dash = ports.find('-'); dash != std::string_view::npos) {
    first = ports.substr(0, dash);
    last = ports.substr(dash + 1);
  }
  auto a = parse_uint32(first, 10), b = parse_uint32(last, 10);
  if (!a || !b || *a > 65535 || *b > 65535) return bad("invalid port " + detail::go_quote(text));
  if (*b < *a) return bad("invalid port range " + detail::go_quote(text));
  p.first = static_cast<std::uint16_t>(*a);
  p.last = static_cast<std::uint16_t>(*b);
  return p;
}

Result<std::int64_t> parse_go_duration(std::string_view text) {
  auto invalid = [&] { return bad("invalid duration " + detail::go_quote(text)); };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) value = value * 10 + (s[i++] - '0'), digits = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) value += (s[i++] - '0') * scale, scale /= 10, digits = true;
    }
    if (!digits) return invalid();
    s.remove_prefix(i);
    std::size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    std::string_view unit = s.substr(0, u);
    long double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1e3L;
    else if (unit == "ms") mult = 1e6L;
    else if (unit == "s") mult = 1e9L;
    else if (unit == "m") mult = 60e9L;
    else if (unit == "h") mult = 3600e9L;
    else return bad("invalid duration " + detail::go_quote(text) + ": missing or unknown unit");
    s.remove_prefix(u);
    total += value * mult;
    if (total > 9.2e18L) return invalid();
  }
  auto ns = static_cast<std::int64_t>(total);
  return negative ? -ns : ns;
}

}  // namespace strata::dockerfile
