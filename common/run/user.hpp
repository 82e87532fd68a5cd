// USER and COPY --chown resolution against the image's own /etc/passwd and /etc/group (read from
// the build root, never the host's NSS), with docker's rules (moby/sys/user GetExecUser):
//
//   USER ""          → uid 0, gid 0 (or root's passwd entry), home from the entry or "/"
//   USER app         → the passwd entry named app: its uid, gid and home; supplementary groups
//                      are the primary gid plus every /etc/group entry listing "app"
//   USER 1000        → the entry with uid 1000 if any (as above), else uid 1000, gid 0, home "/"
//   USER app:staff   → the explicit group (name or number) replaces the primary gid and the
//                      supplementary list is just that group
//   a name that is not in the file (or no file) is an error; numbers are accepted as they are.
//
// COPY --chown=user[:group]: names resolved the same way; without a group the gid is the same
// number as the uid (docker's documented rule), not the user's primary group.
//
// Thread safety: reentrant; reads the files on every call.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace strata::run {

struct ResolvedUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // for setgroups(); primary gid first
  std::string name;           // "" when the uid has no passwd entry
  std::string home = "/";
};

// Errors: not_found ("unable to find user app: no matching entries in passwd file"),
// invalid_argument for a malformed spec (empty user before ':', negative/huge numbers), io.
Result<ResolvedUser> resolve_user(const std::string& root, std::string_view spec);

// Errors as resolve_user.
Result<std::pair<uid_t, gid_t>> resolve_chown(const std::string& root, std::string_view spec);

}  // namespace strata::run
