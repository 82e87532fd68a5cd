#include "store/lease.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include "store/file_ops.hpp"

namespace strata::store {

namespace {

constexpr std::string_view k_suffix = ".json";
constexpr std::string_view k_temp_prefix = ".tmp-";
// An unlocked temp file younger than this may belong to a creator that has not locked it yet.
constexpr std::chrono::seconds k_temp_grace{60};

std::string encode(const LeaseContents& c) {
  nlohmann::json j;
  j["owner"] = c.owner;
  j["digests"] = nlohmann::json::array();
  for (const auto& d : c.digests) j["digests"].push_back(d.str());
  j["cache_keys"] = c.cache_keys;
  return j.dump();
}

Result<LeaseContents> decode(const std::string& path, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(ErrorKind::corrupt, "lease " + path + " is not a JSON object");
  LeaseContents c;
  if (auto o = j.find("owner"); o != j.end() && o->is_string()) c.owner = o->get<std::string>();
  if (auto ds = j.find("digests"); ds != j.end() && ds->is_array()) {
    for (const auto& d : *ds) {
      if (!d.is_string()) return fail(ErrorKind::corrupt, "lease " + path + " holds a non-string digest");
      auto parsed = digest::Digest::parse(d.get<std::string>());
      if (!parsed) return fail(parsed.error().with_context("lease " + path));
      c.digests.insert(*parsed);
    }
  }
  if (auto ks = j.find("cache_keys"); ks != j.end() && ks->is_array())
    for (const auto& k : *ks)
      if (k.is_string()) c.cache_keys.insert(k.get<std::string>());
  return c;
}

std::string fence_path(const std::string& cache_dir) { return cache_dir + "/leases.lock"; }

struct Published {
  std::string path;
  util::Fd fd;
};

Result<Published> publish(const std::string& dir, const LeaseContents& contents) {
  const std::string name = unique_name();
  const std::string temp = dir + "/" + std::string(k_temp_prefix) + name;
  const std::string final_path = dir + "/" + name + std::string(k_suffix);
  util::Fd fd(::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return fail_errno("creating lease " + temp, errno);
  auto give_up = [&](Error e) -> Result<Published> {
    ::unlink(temp.c_str());
    return fail(std::move(e));
  };
  auto locked = try_lock(fd.get(), LockMode::exclusive);
  if (!locked || !*locked) return give_up(Error(ErrorKind::io, "cannot lock new lease file " + temp));
  std::string text = encode(contents);
  std::string_view left = text;
  while (!left.empty()) {
    ssize_t n = ::write(fd.get(), left.data(), left.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return give_up(errno_error("writing lease " + temp, errno));
    }
    left.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return give_up(errno_error("fsync of lease " + temp, errno));
  if (::rename(temp.c_str(), final_path.c_str()) != 0)
    return give_up(errno_error("publishing lease " + final_path, errno));
  TRY(fsync_dir(dir));
  return Published{final_path, std::move(fd)};
}

}  // namespace

void LeaseContents::merge(const LeaseContents& other) {
  digests.insert(other.digests.begin(), other.digests.end());
  cache_keys.insert(other.cache_keys.begin(), other.cache_keys.end());
}

Lease::Lease(std::string cache_dir, std::string path, util::Fd fd, LeaseContents contents)
    : m_cache_dir(std::move(cache_dir)), m_path(std::move(path)), m_fd(std::move(fd)), m_contents(std::move(contents)) {}

Lease::Lease(Lease&& other) noexcept
    : m_cache_dir(std::move(other.m_cache_dir)),
      m_path(std::exchange(other.m_path, std::string())),
      m_fd(std::move(other.m_fd)),
      m_contents(std::move(other.m_contents)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    m_cache_dir = std::move(other.m_cache_dir);
    m_path = std::exchange(other.m_path, std::string());
    m_fd = std::move(other.m_fd);
    m_contents = std::move(other.m_contents);
  }
  return *this;
}

Lease::~Lease() { release(); }

Result<Lease> Lease::acquire(const std::string& cache_dir, LeaseContents contents) {
  const std::string dir = cache_dir + "/leases";
  TRY(make_dirs(dir));
  auto fence = TRY(lock_path(fence_path(cache_dir), LockMode::shared, std::chrono::milliseconds(60'000)));
  auto p = TRY(publish(dir, contents));
  return Lease(cache_dir, std::move(p.path), std::move(p.fd), std::move(contents));
}

Result<void> Lease::update(LeaseContents contents) {
  auto fence = TRY(lock_path(fence_path(m_cache_dir), LockMode::shared, std::chrono::milliseconds(60'000)));
  auto p = TRY(publish(m_cache_dir + "/leases", contents));
  release();
  m_path = std::move(p.path);
  m_fd = std::move(p.fd);
  m_contents = std::move(contents);
  return {};
}

Result<void> Lease::extend(const LeaseContents& more) {
  LeaseContents next = m_contents;
  next.merge(more);
  return update(std::move(next));
}

void Lease::release() {
  if (m_path.empty()) return;
  // Unlink before unlocking: nobody may see the file unlocked and mistake us for dead while we
  // are still in the middle of using it.
  ::unlink(m_path.c_str());
  m_fd.reset();
  m_path.clear();
}

Result<void> LeaseSet::add(const LeaseContents& more) {
  std::lock_guard lock(m_mutex);
  if (m_lease) {
    const auto& have = m_lease->contents();
    bool news = std::any_of(more.digests.begin(), more.digests.end(), [&](const auto& d) { return !have.digests.count(d); }) ||
                std::any_of(more.cache_keys.begin(), more.cache_keys.end(),
                            [&](const auto& k) { return !have.cache_keys.count(k); });
    if (!news) return {};
    return m_lease->extend(more);
  }
  LeaseContents c = more;
  c.owner = m_owner;
  m_lease = TRY(Lease::acquire(m_cache_dir, std::move(c)));
  return {};
}

LeaseContents LeaseSet::contents() const {
  std::lock_guard lock(m_mutex);
  return m_lease ? m_lease->contents() : LeaseContents{};
}

Result<util::Fd> lock_deletions(const std::string& cache_dir, std::chrono::milliseconds timeout) {
  return TRY_CTX(lock_path(fence_path(cache_dir), LockMode::exclusive, timeout), "deletion fence of " + cache_dir);
}

Result<ActiveLeases> active_leases(const std::string& cache_dir) {
  const std::string dir = cache_dir + "/leases";
  ActiveLeases out;
  auto names = list_dir(dir);
  if (!names) {
    if (names.error().kind() == ErrorKind::not_found) return out;
    return fail(names.error());
  }
  for (const auto& name : *names) {
    const std::string path = dir + "/" + name;
    const bool is_temp = name.starts_with(k_temp_prefix);
    if (!is_temp && !name.ends_with(k_suffix)) continue;
    util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) continue;  // released meanwhile
    bool free = TRY_CTX(try_lock(fd.get(), LockMode::exclusive), "checking lease " + path);
    if (is_temp) {
      struct stat st {};
      if (free && ::fstat(fd.get(), &st) == 0 && std::time(nullptr) - st.st_mtime > k_temp_grace.count()) {
        ::unlink(path.c_str());
        ++out.removed;
      }
      continue;
    }
    if (free) {
      // Dead owner. We hold the lock while unlinking, so no reader can be fooled either way.
      if (::unlink(path.c_str()) == 0) ++out.removed;
      continue;
    }
    auto text = read_file(path, 64u << 20);
    if (!text) {
      if (text.error().kind() == ErrorKind::not_found) continue;
      return fail(text.error());
    }
    auto contents = TRY(decode(path, *text));
    out.in_use.merge(contents);
    ++out.live;
  }
  return out;
}

}  // namespace strata::store
