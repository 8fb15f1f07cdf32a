#include "proxy/http/request_target.h"

#include "proxy/http/authority.h"

namespace sluice::http {
namespace {

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool equalsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] + 32) : s[i];
    if (c != lower[i]) return false;
  }
  return true;
}

RequestTarget refuse(std::string_view why) {
  RequestTarget t;
  t.error = why;
  return t;
}

std::string_view authorityError(AuthorityError e) {
  switch (e) {
    case AuthorityError::Userinfo: return "userinfo in request-target";
    case AuthorityError::Empty: return "empty authority in request-target";
    case AuthorityError::MissingPort: return "CONNECT target needs host:port";
    default: return "invalid authority in request-target";
  }
}

// RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':'.
// Returns the scheme's length, 0 when `t` does not start with one.
size_t schemeLength(std::string_view t) {
  if (t.empty() || !isAlpha(t[0])) return 0;
  for (size_t i = 1; i < t.size(); ++i) {
    const char c = t[i];
    if (c == ':') return i;
    if (!isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

}  // namespace

RequestTarget parseRequestTarget(std::string_view method, std::string_view target) {
  if (target.empty()) return refuse("empty request-target");
  for (const char c : target) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7f) return refuse("control byte or space in request-target");
    if (b > 0x7f) return refuse("non-ASCII byte in request-target");
    if (c == '#') return refuse("fragment in request-target");
  }
  const bool connect = method == "CONNECT";
  RequestTarget t;
  if (connect) {
    if (const AuthorityError e = checkAuthority(target, /*port_required=*/true); e != AuthorityError::None)
      return refuse(target.front() == '/' ? "CONNECT needs an authority-form target" : authorityError(e));
    t.form = TargetForm::Authority;
    t.authority = target;
    return t;
  }
  if (target.front() == '/') {
    t.path = target;
    return t;
  }
  if (target == "*") {
    if (method != "OPTIONS") return refuse("asterisk-form is for OPTIONS only");
    t.form = TargetForm::Asterisk;
    t.path = target;
    return t;
  }
  const size_t scheme = schemeLength(target);
  if (scheme == 0 || target.substr(scheme, 3) != "://") return refuse("request-target in no valid form");
  const std::string_view name = target.substr(0, scheme);
  if (!equalsLower(name, "http") && !equalsLower(name, "https")) return refuse("request-target scheme is not http(s)");
  const std::string_view rest = target.substr(scheme + 3);
  const size_t end = rest.find_first_of("/?");
  t.form = TargetForm::Absolute;
  t.authority = rest.substr(0, end);
  t.path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (const AuthorityError e = checkAuthority(t.authority); e != AuthorityError::None) return refuse(authorityError(e));
  return t;
}

}  // namespace sluice::http
