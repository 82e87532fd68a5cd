// Grammar (RFC 9110 §11.3, §5.6):
//   challenges  = challenge *( OWS "," OWS challenge )   (empty list elements allowed)
//   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param  = token BWS "=" BWS ( token / quoted-string )
//   token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// The ambiguity of the comma (it separates both parameters and challenges) is resolved the usual
// way: after a comma, a token followed by "=" is a parameter, anything else starts a challenge.
#include "auth/www_authenticate.hpp"
#include "util/strings.hpp"

#include <cctype>

namespace strata::auth {
namespace {

bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~' ||
         c == '+' || c == '/';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : m_text(text) {}

  Result<std::vector<Challenge>> run() {
    std::vector<Challenge> out;
    skip_list_separators();
    while (!at_end()) {
      std::string scheme = token();
      if (scheme.empty()) return error("expected an auth scheme");
      Challenge challenge;
      challenge.scheme = util::ascii_lower(scheme);
      bool had_space = skip_spaces();
      if (had_space && !at_end() && peek() != ',') {
        if (looks_like_param()) {
          TRY(params(challenge));
        } else {
          TRY(token68(challenge));
        }
      }
      out.push_back(std::move(challenge));
      skip_spaces();
      if (!at_end() && peek() != ',') return error("expected ',' after challenge");
      skip_list_separators();
    }
    return out;
  }

 private:
  bool at_end() const { return m_pos >= m_text.size(); }
  char peek() const { return m_text[m_pos]; }

  bool skip_spaces() {
    std::size_t start = m_pos;
    while (!at_end() && (peek() == ' ' || peek() == '\t')) ++m_pos;
    return m_pos > start;
  }

  void skip_list_separators() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == ',')) ++m_pos;
  }

  std::string token() {
    std::size_t start = m_pos;
    while (!at_end() && is_tchar(peek())) ++m_pos;
    return std::string(m_text.substr(start, m_pos - start));
  }

  // At a token: is it "name =" (a parameter), not a token68 or the next challenge's scheme?
  bool looks_like_param() const {
    std::size_t p = m_pos;
    while (p < m_text.size() && is_tchar(m_text[p])) ++p;
    if (p == m_pos) return false;
    while (p < m_text.size() && (m_text[p] == ' ' || m_text[p] == '\t')) ++p;
    if (p >= m_text.size() || m_text[p] != '=') return false;
    // "abc==" or "abc=" at the end of a challenge is token68 padding, not an empty parameter.
    std::size_t q = p;
    while (q < m_text.size() && m_text[q] == '=') ++q;
    if (q - p > 1) return false;
    while (q < m_text.size() && (m_text[q] == ' ' || m_text[q] == '\t')) ++q;
    return q < m_text.size() && m_text[q] != ',';
  }

  Result<void> token68(Challenge& challenge) {
    std::size_t start = m_pos;
    while (!at_end() && is_token68_char(peek())) ++m_pos;
    if (m_pos == start) return error("expected token68 or auth parameters");
    while (!at_end() && peek() == '=') ++m_pos;
    challenge.token68 = std::string(m_text.substr(start, m_pos - start));
    return {};
  }

  Result<void> params(Challenge& challenge) {
    while (true) {
      std::string name = util::ascii_lower(token());
      if (name.empty()) return error("expected a parameter name");
      skip_spaces();
      if (at_end() || peek() != '=') return error("expected '=' after parameter '" + name + "'");
      ++m_pos;
      skip_spaces();
      std::string value;
      if (!at_end() && peek() == '"') {
        value = TRY(quoted_string());
      } else {
        value = token();
        if (value.empty()) return error("expected a value for parameter '" + name + "'");
      }
      if (!challenge.params.emplace(name, std::move(value)).second) {
        return error("duplicate parameter '" + name + "'");
      }
      // Another parameter of this challenge follows a comma; a new challenge does not look
      // like "name=".
      std::size_t save = m_pos;
      skip_spaces();
      if (at_end() || peek() != ',') return {};
      skip_list_separators();
      if (at_end() || !looks_like_param()) {
        m_pos = save;
        return {};
      }
    }
  }

  Result<std::string> quoted_string() {
    ++m_pos;  // opening quote
    std::string out;
    while (!at_end()) {
      char c = peek();
      ++m_pos;
      if (c == '"') return out;
      if (c == '\\') {
        if (at_end()) break;
        c = peek();
        ++m_pos;
      }
      out.push_back(c);
    }
    return fail(ErrorKind::invalid_argument, "WWW-Authenticate: unterminated quoted string");
  }

  tl::unexpected<Error> error(const std::string& what) const {
    return fail(ErrorKind::invalid_argument,
                "WWW-Authenticate: " + what + " at offset " + std::to_string(m_pos));
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

}  // namespace

std::string Challenge::param(std::string_view name) const {
  auto it = params.find(util::ascii_lower(name));
  return it == params.end() ? std::string() : it->second;
}

Result<std::vector<Challenge>> parse_www_authenticate(std::string_view header) { return Parser(header).run(); }

std::vector<Challenge> parse_www_authenticate_all(const std::vector<std::string>& headers) {
  std::vector<Challenge> out;
  for (const auto& h : headers) {
    auto parsed = parse_www_authenticate(h);
    if (!parsed) continue;
    for (auto& c : *parsed) out.push_back(std::move(c));
  }
  return out;
}

const Challenge* find_challenge(const std::vector<Challenge>& challenges, std::string_view scheme) {
  std::string wanted = util::ascii_lower(scheme);
  for (const auto& c : challenges) {
    if (c.scheme == wanted) return &c;
  }
  return nullptr;
}

}  // namespace strata::auth
