#include "run/user.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

#include "run/root_path.hpp"

namespace strata::run {
namespace {

struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};
struct GroupEntry {
  std::string name;
  gid_t gid = 0;
  std::vector<std::string> members;
};

std::vector<std::string> split(std::string_view line, char sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t next = line.find(sep, pos);
    if (next == std::string_view::npos) {
      out.emplace_back(line.substr(pos));
      return out;
    }
    out.emplace_back(line.substr(pos, next - pos));
    pos = next + 1;
  }
}

std::optional<std::uint32_t> parse_id(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 0x7fffffffu) return std::nullopt;
  return value;
}

// A missing file reads as empty: images without /etc/passwd can still use numeric ids.
Result<std::vector<std::vector<std::string>>> read_table(const std::string& root, std::string_view file,
                                                         std::size_t min_fields) {
  std::vector<std::vector<std::string>> rows;
  RootPath path = TRY(resolve_in_root(root, file));
  if (!path.exists) return rows;
  std::ifstream in(path.host);
  if (!in) return fail_errno("open " + path.host, errno);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto fields = split(line, ':');
    if (fields.size() < min_fields) continue;  // as libc: malformed lines are skipped
    rows.push_back(std::move(fields));
  }
  return rows;
}

Result<std::vector<PasswdEntry>> read_passwd(const std::string& root) {
  std::vector<PasswdEntry> out;
  for (auto& f : TRY(read_table(root, "/etc/passwd", 6))) {
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (!uid || !gid) continue;
    out.push_back({f[0], *uid, *gid, f[5]});
  }
  return out;
}

Result<std::vector<GroupEntry>> read_group(const std::string& root) {
  std::vector<GroupEntry> out;
  for (auto& f : TRY(read_table(root, "/etc/group", 3))) {
    auto gid = parse_id(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() > 3 && !f[3].empty()) g.members = split(f[3], ',');
    out.push_back(std::move(g));
  }
  return out;
}

struct Spec {
  std::string_view user;
  std::optional<std::string_view> group;
};

Result<Spec> split_spec(std::string_view spec) {
  Spec out;
  std::size_t colon = spec.find(':');
  out.user = spec.substr(0, colon);
  if (colon != std::string_view::npos) {
    out.group = spec.substr(colon + 1);
    if (out.user.empty() || out.group->empty()) {
      return fail(ErrorKind::invalid_argument, "invalid user '" + std::string(spec) + "': expected user[:group]");
    }
  }
  return out;
}

const PasswdEntry* find_user(const std::vector<PasswdEntry>& passwd, std::string_view user) {
  for (const auto& p : passwd) {
    if (p.name == user) return &p;
  }
  if (auto uid = parse_id(user)) {
    for (const auto& p : passwd) {
      if (p.uid == *uid) return &p;
    }
  }
  return nullptr;
}

Result<gid_t> find_group(const std::vector<GroupEntry>& groups, std::string_view group) {
  for (const auto& g : groups) {
    if (g.name == group) return g.gid;
  }
  if (auto gid = parse_id(group)) return *gid;
  return fail(ErrorKind::not_found,
              "unable to find group " + std::string(group) + ": no matching entries in group file");
}

Error user_not_found(std::string_view user) {
  return Error(ErrorKind::not_found,
               "unable to find user " + std::string(user) + ": no matching entries in passwd file");
}

}  // namespace

Result<ResolvedUser> resolve_user(const std::string& root, std::string_view spec) {
  Spec parts = TRY(split_spec(spec));
  auto passwd = TRY_CTX(read_passwd(root), "USER " + std::string(spec));
  ResolvedUser out;
  std::string_view user = parts.user.empty() ? "0" : parts.user;
  if (const PasswdEntry* p = find_user(passwd, user)) {
    out.uid = p->uid;
    out.gid = p->gid;
    out.name = p->name;
    if (!p->home.empty()) out.home = p->home;
  } else if (auto uid = parse_id(user)) {
    out.uid = *uid;
  } else {
    return fail(user_not_found(user));
  }
  auto groups = TRY_CTX(read_group(root), "USER " + std::string(spec));
  if (parts.group) {
    out.gid = TRY(find_group(groups, *parts.group));
    out.groups = {out.gid};
    return out;
  }
  out.groups.push_back(out.gid);
  if (!out.name.empty()) {
    for (const auto& g : groups) {
      for (const auto& m : g.members) {
        if (m == out.name && std::find(out.groups.begin(), out.groups.end(), g.gid) == out.groups.end()) {
          out.groups.push_back(g.gid);
        }
      }
    }
  }
  return out;
}

Result<std::pair<uid_t, gid_t>> resolve_chown(const std::string& root, std::string_view spec) {
  Spec parts = TRY(split_spec(spec));
  if (parts.user.empty()) return fail(ErrorKind::invalid_argument, "empty --chown user");
  uid_t uid = 0;
  if (auto n = parse_id(parts.user)) {
    uid = *n;
  } else {
    auto passwd = TRY_CTX(read_passwd(root), "--chown=" + std::string(spec));
    const PasswdEntry* p = find_user(passwd, parts.user);
    if (p == nullptr) return fail(user_not_found(parts.user));
    uid = p->uid;
  }
  if (!parts.group) return std::pair<uid_t, gid_t>(uid, uid);
  if (auto n = parse_id(*parts.group)) return std::pair<uid_t, gid_t>(uid, *n);
  auto groups = TRY_CTX(read_group(root), "--chown=" + std::string(spec));
  gid_t gid = TRY(find_group(groups, *parts.group));
  return std::pair<uid_t, gid_t>(uid, gid);
}

}  // namespace strata::run
