#include "integration/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "util/fd.hpp"

namespace strata::itest {

std::string basic_auth(const std::string& user, const std::string& password) {
  static const char* k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = user + ":" + password, out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += k_alphabet[(n >> 18) & 63];
    out += k_alphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? k_alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? k_alphabet[n & 63] : '=';
  }
  return "Basic " + out;
}

Result<HttpResponse> http_request(int port, const std::string& method, const std::string& path,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body) {
  const std::string what = method + " http://127.0.0.1:" + std::to_string(port) + path;
  util::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail(ErrorKind::network, what + ": " + std::strerror(errno), true);

  std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1:" +
                        std::to_string(port) + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  for (std::size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::network, what + ": send: " + std::strerror(errno), true);
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::network, what + ": recv: " + std::strerror(errno), true);
    if (n == 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }

  auto head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos || response.compare(0, 5, "HTTP/") != 0)
    return fail(ErrorKind::corrupt, what + ": not an HTTP response: " + response.substr(0, 200));
  HttpResponse result;
  auto line_end = response.find("\r\n");
  auto sp = response.find(' ');
  if (sp == std::string::npos || sp > line_end)
    return fail(ErrorKind::corrupt, what + ": bad status line");
  result.status = std::atoi(response.c_str() + sp + 1);
  for (std::size_t pos = line_end + 2; pos < head_end;) {
    auto eol = response.find("\r\n", pos);
    std::string line = response.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    auto& slot = result.headers[name];
    slot = slot.empty() ? value : slot + ", " + value;
  }
  result.body = response.substr(head_end + 4);
  return result;
}

}  // namespace strata::itest
