// ADD: archive auto-extraction, URL downloads (from an in-process server on 127.0.0.1) with
// --checksum, and git sources cloned from a local repository.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>

#include "build/add_archive.hpp"
#include "build/add_remote.hpp"
#include "digest/digest.hpp"
#include "unit/build/copy_test_support.hpp"
#include "transport/curl_transport.hpp"

namespace strata::build {
namespace {

using namespace testing;

// Serves one fixed body (with Last-Modified) to every GET, and 404 for paths ending in "missing".
class TinyHttpServer {
 public:
  explicit TinyHttpServer(std::string body) : m_body(std::move(body)) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(m_fd, 16), 0);
    m_thread = std::thread([this] { serve(); });
  }
  ~TinyHttpServer() {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    m_thread.join();
    ::close(m_fd);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(m_port) + path; }

 private:
  void serve() {
    while (!m_stop) {
      int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      std::string path = req.substr(4, req.find(' ', 4) - 4);
      std::string resp;
      if (path.ends_with("missing")) {
        resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      } else if (path.ends_with("redirect")) {
        resp = "HTTP/1.1 302 Found\r\nLocation: /files/real.txt\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      } else {
        resp = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(m_body.size()) +
               "\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nConnection: close\r\n\r\n" + m_body;
      }
      std::size_t off = 0;
      while (off < resp.size()) {
        ssize_t n = ::write(c, resp.data() + off, resp.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      ::close(c);
    }
  }

  std::string m_body;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

CopyRequest add(std::vector<std::string> sources, std::string dest) {
  CopyRequest r = req(std::move(sources), std::move(dest));
  r.is_add = true;
  return r;
}

void make_tree_tar(CopyFixture& f, const std::string& name, const std::string& compress) {
  write_file(f.ctx("payload/top.txt"), "TOP");
  write_file(f.ctx("payload/dir/inner.txt"), "INNER", 0600);
  std::string cmd = "tar -C " + f.ctx("payload") + " -cf " + f.ctx(name) + ".tmp top.txt dir";
  run_shell(cmd);
  if (compress.empty()) run_shell("mv " + f.ctx(name) + ".tmp " + f.ctx(name));
  else run_shell(compress + " -c " + f.ctx(name) + ".tmp > " + f.ctx(name) + " && rm " + f.ctx(name) + ".tmp");
}

TEST(AddArchive, ExtractsTarGzXzBzip2AndPlainByContent) {
  for (const auto& [name, tool] : std::vector<std::pair<std::string, std::string>>{
           {"a.tar", ""}, {"b.tgz", "gzip"}, {"c.data", "xz"}, {"d.tar.bz2", "bzip2"}}) {
    CopyFixture f;
    make_tree_tar(f, name, tool);
    ASSERT_TRUE(f.copy(add({name}, "/x"))) << name;
    EXPECT_EQ(read_file(f.img("x/top.txt")), "TOP") << name;
    EXPECT_EQ(read_file(f.img("x/dir/inner.txt")), "INNER") << name;
    EXPECT_EQ(lstat_of(f.img("x/dir/inner.txt")).st_mode & 07777, 0600u) << name;
    EXPECT_FALSE(exists(f.img("x/" + name))) << name;
  }
}

TEST(AddArchive, NonArchivesAndCopyAreNotExtracted) {
  CopyFixture f;
  write_file(f.ctx("notes.tar.gz"), "just text, not gzip");
  run_shell("gzip -c /etc/hostname > " + f.ctx("plain.gz") + " 2>/dev/null || echo hi | gzip > " + f.ctx("plain.gz"));
  write_file(f.ctx("empty.tar"), "");
  ASSERT_TRUE(f.copy(add({"notes.tar.gz", "plain.gz", "empty.tar"}, "/n/")));
  EXPECT_EQ(read_file(f.img("n/notes.tar.gz")), "just text, not gzip");
  EXPECT_TRUE(exists(f.img("n/plain.gz")));  // gzip of a non-tar stays a file, as docker
  EXPECT_TRUE(exists(f.img("n/empty.tar")));
  make_tree_tar(f, "t.tar", "gzip");
  ASSERT_TRUE(f.copy(req({"t.tar"}, "/c/")));
  EXPECT_TRUE(exists(f.img("c/t.tar")));
  EXPECT_FALSE(exists(f.img("c/top.txt")));
}

TEST(AddUrl, DownloadsWithChecksumAndLastModified) {
  std::string body = "downloaded body\n";
  TinyHttpServer server(body);
  transport::CurlTransport curl;
  CopyFixture f;
  f.transport = &curl;
  auto r = add({server.url("/files/tool.tar")}, "/opt/");
  r.checksum = digest::sha256(body).str();
  ASSERT_TRUE(f.copy(r));
  EXPECT_EQ(read_file(f.img("opt/tool.tar")), body);
  struct stat st = lstat_of(f.img("opt/tool.tar"));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1445412480);

  auto named = add({server.url("/files/x.bin")}, "/named");
  ASSERT_TRUE(f.copy(named));
  EXPECT_EQ(read_file(f.img("named")), body);

  auto redirected = add({server.url("/redirect")}, "/r/");
  ASSERT_TRUE(f.copy(redirected));
  EXPECT_EQ(read_file(f.img("r/redirect")), body);

  auto bad = add({server.url("/files/tool.tar")}, "/bad/");
  bad.checksum = digest::sha256("other").str();
  auto e = f.copy(bad);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind(), ErrorKind::corrupt);
  EXPECT_NE(e.error().message().find(digest::sha256("other").str()), std::string::npos);
  EXPECT_NE(e.error().message().find(digest::sha256(body).str()), std::string::npos);
  EXPECT_FALSE(exists(f.img("bad")));

  auto missing = f.copy(add({server.url("/missing")}, "/m"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::not_found);
}

TEST(AddUrl, FileNamesAndDates) {
  EXPECT_EQ(url_file_name("https://h/a/b.tgz?x=1"), "b.tgz");
  EXPECT_EQ(url_file_name("https://h/"), "__unnamed__");
  EXPECT_EQ(url_file_name("https://h"), "__unnamed__");
  EXPECT_EQ(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480LL * 1000000000);
  EXPECT_FALSE(parse_http_date("yesterday"));
  EXPECT_TRUE(is_git_url("https://github.com/moby/buildkit.git#v0.12"));
  EXPECT_TRUE(is_git_url("git@github.com:moby/buildkit.git"));
  EXPECT_FALSE(is_git_url("https://example.com/file.tar"));
  auto g = parse_git_source("https://h/r.git#main:sub/dir");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->remote, "https://h/r.git");
  EXPECT_EQ(g->ref, "main");
  EXPECT_EQ(g->subdir, "sub/dir");
}

TEST(AddGit, ClonesARefWithoutGitDir) {
  if (std::system("git --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "git is not installed";
  TempDir repo;
  std::string g = "git -C " + repo.path() + " -c user.email=t@t -c user.name=t ";
  run_shell("git init -q " + repo.path());
  write_file(repo / "README", "v1");
  run_shell(g + "add README && " + g + "commit -qm one && " + g + "tag v1");
  write_file(repo / "README", "v2");
  run_shell(g + "commit -qam two");
  TempDir out;
  ASSERT_TRUE(git_clone("git", GitSource{"file://" + repo.path(), "v1", ""}, out.path(), false));
  EXPECT_EQ(read_file(out / "README"), "v1");
  EXPECT_FALSE(exists(out / ".git"));
  TempDir kept;
  ASSERT_TRUE(git_clone("git", GitSource{"file://" + repo.path(), "", ""}, kept.path(), true));
  EXPECT_EQ(read_file(kept / "README"), "v2");
  EXPECT_TRUE(exists(kept / ".git"));
  TempDir none;
  auto missing = git_clone("/nonexistent/git", GitSource{"file://" + repo.path(), "", ""}, none.path(), false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::unsupported);
}

}  // namespace
}  // namespace strata::build
