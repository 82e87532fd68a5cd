#include "build/copy_mode.hpp"

#include <fcntl.h>

#include <charconv>
#include <vector>

#include "build/context.hpp"

namespace strata::build {
namespace {

Error bad_chmod(const dockerfile::Chmod& c, std::string_view why) {
  return Error(ErrorKind::invalid_argument, "invalid --chmod=" + c.text + ": " + std::string(why));
}

std::optional<std::uint32_t> parse_octal(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > 07777) return std::nullopt;
  return v;
}

// Runs the symbolic program over `mode`; with `check_only` it just validates.
Result<std::uint32_t> run_symbolic(const dockerfile::Chmod& chmod, std::uint32_t mode, bool is_dir) {
  std::string_view text = chmod.text;
  if (text.empty()) return fail(bad_chmod(chmod, "empty"));
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view clause = text.substr(pos, comma - pos);
    pos = comma + 1;
    if (clause.empty()) return fail(bad_chmod(chmod, "empty clause"));
    std::size_t i = 0;
    std::uint32_t who = 0;
    for (; i < clause.size(); ++i) {
      char c = clause[i];
      if (c == 'u') who |= 04700;
      else if (c == 'g') who |= 02070;
      else if (c == 'o') who |= 01007;
      else if (c == 'a') who |= 07777;
      else break;
    }
    if (who == 0) who = 07777;
    if (i >= clause.size()) return fail(bad_chmod(chmod, "missing operator in \"" + std::string(clause) + "\""));
    while (i < clause.size()) {
      char op = clause[i++];
      if (op != '+' && op != '-' && op != '=') return fail(bad_chmod(chmod, "bad operator in \"" + std::string(clause) + "\""));
      std::uint32_t perm = 0;
      // Copying a class: "g=u" takes the user's rwx bits into the group's positions.
      if (i < clause.size() && (clause[i] == 'u' || clause[i] == 'g' || clause[i] == 'o')) {
        std::uint32_t bits = clause[i] == 'u' ? (mode >> 6) & 7 : clause[i] == 'g' ? (mode >> 3) & 7 : mode & 7;
        perm = bits * 0111;
        ++i;
      } else {
        for (; i < clause.size(); ++i) {
          char c = clause[i];
          if (c == 'r') perm |= 0444;
          else if (c == 'w') perm |= 0222;
          else if (c == 'x') perm |= 0111;
          else if (c == 'X') {
            if (is_dir || (mode & 0111) != 0) perm |= 0111;
          } else if (c == 's') perm |= 06000;
          else if (c == 't') perm |= 01000;
          else break;
        }
      }
      perm &= who;
      if (op == '+') mode |= perm;
      else if (op == '-') mode &= ~perm;
      else mode = (mode & ~(who & 0777)) | perm;
    }
  }
  return mode & 07777;
}

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

Result<std::uint32_t> parse_id(std::string_view s, std::string_view spec) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return fail(ErrorKind::invalid_argument, "invalid --chown=" + std::string(spec) + ": id out of range");
  return v;
}

// Reads passwd/group lines "name:x:id:gid:..." and returns fields of the first line named so.
Result<std::optional<std::vector<std::string>>> lookup(const archive::RootDir& root, const char* file,
                                                      std::string_view name) {
  int fd = root.open_raw(file, O_RDONLY);
  if (fd == -ENOENT || fd == -ENOTDIR) return std::optional<std::vector<std::string>>();
  if (fd < 0) return fail_errno(std::string("open /") + file + " in the image", -fd);
  util::Fd guard(fd);
  std::string content = TRY(read_small_file(fd, std::string("/") + file));
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t nl = content.find('\n', pos);
    if (nl == std::string::npos) nl = content.size();
    std::string_view line(content.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t s = 0;
    while (s <= line.size()) {
      std::size_t colon = line.find(':', s);
      if (colon == std::string_view::npos) colon = line.size();
      fields.emplace_back(line.substr(s, colon - s));
      s = colon + 1;
    }
    if (fields.size() >= 3 && fields[0] == name) return std::optional<std::vector<std::string>>(fields);
  }
  return std::optional<std::vector<std::string>>();
}

}  // namespace

Result<void> validate_chmod(const dockerfile::Chmod& chmod) {
  TRY(apply_chmod(chmod, 0644, false));
  return {};
}

Result<std::uint32_t> apply_chmod(const dockerfile::Chmod& chmod, std::uint32_t mode, bool is_dir) {
  if (chmod.octal) {
    if (*chmod.octal > 07777) return fail(bad_chmod(chmod, "out of range"));
    return *chmod.octal;
  }
  if (auto octal = parse_octal(chmod.text)) return *octal;
  if (!chmod.text.empty() && chmod.text[0] >= '0' && chmod.text[0] <= '9')
    return fail(bad_chmod(chmod, "not an octal mode up to 7777"));
  return run_symbolic(chmod, mode & 07777, is_dir);
}

Result<Owner> resolve_owner(const archive::RootDir& root, std::string_view spec) {
  std::string_view user = spec, group;
  bool has_group = false;
  if (auto colon = spec.find(':'); colon != std::string_view::npos) {
    user = spec.substr(0, colon);
    group = spec.substr(colon + 1);
    has_group = true;
  }
  if (user.empty() || (has_group && group.empty()))
    return fail(ErrorKind::invalid_argument, "invalid --chown=" + std::string(spec) + ": empty user or group");
  Owner owner;
  if (is_number(user)) {
    owner.uid = TRY(parse_id(user, spec));
    owner.gid = owner.uid;
  } else {
    auto fields = TRY(lookup(root, "etc/passwd", user));
    if (!fields || fields->size() < 4)
      return fail(ErrorKind::not_found, "--chown=" + std::string(spec) + ": no user \"" + std::string(user) +
                                            "\" in the image's /etc/passwd");
    if (!is_number((*fields)[2]) || !is_number((*fields)[3]))
      return fail(ErrorKind::corrupt, "/etc/passwd: bad ids for user \"" + std::string(user) + "\"");
    owner.uid = TRY(parse_id((*fields)[2], spec));
    owner.gid = TRY(parse_id((*fields)[3], spec));
  }
  if (has_group) {
    if (is_number(group)) {
      owner.gid = TRY(parse_id(group, spec));
    } else {
      auto fields = TRY(lookup(root, "etc/group", group));
      if (!fields || !is_number((*fields)[2]))
        return fail(ErrorKind::not_found, "--chown=" + std::string(spec) + ": no group \"" + std::string(group) +
                                              "\" in the image's /etc/group");
      owner.gid = TRY(parse_id((*fields)[2], spec));
    }
  }
  return owner;
}

}  // namespace strata::build
