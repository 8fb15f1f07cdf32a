#include "proxy/http/authority.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace sluice::http {
namespace {

constexpr auto kNameByte = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  t['-'] = t['.'] = t['_'] = t['~'] = true;
  return t;
}();

bool validIpv6(std::string_view text) {
  // inet_pton takes exactly RFC 4291 2.2's text forms, which are RFC 3986's
  // IPv6address (dotted quads without leading zeros included); it needs a
  // terminated string.
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof(buf)) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in6_addr addr;
  return inet_pton(AF_INET6, buf, &addr) == 1;
}

AuthorityError checkPort(std::string_view port, bool port_required) {
  if (port.empty()) return port_required ? AuthorityError::MissingPort : AuthorityError::None;
  if (port.size() > 5) return AuthorityError::BadPort;
  uint32_t value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return AuthorityError::BadPort;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value > 65535 ? AuthorityError::BadPort : AuthorityError::None;
}

}  // namespace

AuthorityError checkAuthority(std::string_view a, bool port_required) {
  if (a.empty()) return AuthorityError::Empty;
  if (a.find('@') != std::string_view::npos) return AuthorityError::Userinfo;
  std::string_view rest;  // after the host: empty, or ':' port
  if (a.front() == '[') {
    const size_t close = a.find(']');
    if (close == std::string_view::npos || !validIpv6(a.substr(1, close - 1))) return AuthorityError::BadIpLiteral;
    rest = a.substr(close + 1);
  } else {
    const size_t colon = a.find(':');
    const std::string_view host = a.substr(0, colon);
    if (host.empty()) return AuthorityError::Empty;
    for (const char c : host)
      if (!kNameByte[static_cast<unsigned char>(c)]) return AuthorityError::BadHost;
    // No DNS name has an empty label (RFC 1034 3.1): ".a", "a..b" and "a.."
    // would each miss the virtual host of "a.b" or "a" while an upstream
    // that collapses dots reads them as that name. One trailing dot (a fully
    // qualified name) is allowed; routing strips it.
    if (host.front() == '.' || host.find("..") != std::string_view::npos) return AuthorityError::EmptyLabel;
    if (colon != std::string_view::npos) rest = a.substr(colon);
  }
  if (rest.empty()) return port_required ? AuthorityError::MissingPort : AuthorityError::None;
  if (rest.front() != ':') return AuthorityError::BadHost;
  return checkPort(rest.substr(1), port_required);
}

std::string_view authorityErrorText(AuthorityError e) {
  switch (e) {
    case AuthorityError::None: return "";
    case AuthorityError::Empty: return "empty host";
    case AuthorityError::Userinfo: return "userinfo in authority";
    case AuthorityError::BadHost: return "invalid host";
    case AuthorityError::EmptyLabel: return "empty label in host";
    case AuthorityError::BadIpLiteral: return "invalid IPv6 literal";
    case AuthorityError::BadPort: return "invalid port";
    case AuthorityError::MissingPort: return "authority-form needs a port";
  }
  return "";
}

}  // namespace sluice::http
