// checkAuthority: the Host field and a request-target's authority
// (RFC 9112 3.2, RFC 3986 3.2.2 and 3.2.3).
#include "proxy/http/authority.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::http {
namespace {

struct Case {
  std::string in;
  AuthorityError want;
};

void expectAll(const std::vector<Case>& cases, bool port_required = false) {
  for (const auto& c : cases)
    EXPECT_EQ(checkAuthority(c.in, port_required), c.want) << "'" << c.in << "': " << authorityErrorText(c.want);
}

// RFC 3986 3.2.2: host = IP-literal / IPv4address / reg-name; 3.2.3: port = *DIGIT.
TEST(AuthorityRfc3986, ValidHostsAndPorts) {
  expectAll({
      {"example.com", AuthorityError::None},
      {"EXAMPLE.com", AuthorityError::None},  // case-insensitive (3.2.2)
      {"a-b_c~d.example", AuthorityError::None},
      {"localhost:8080", AuthorityError::None},
      {"example.com:0", AuthorityError::None},
      {"example.com:65535", AuthorityError::None},
      {"example.com:", AuthorityError::None},  // 3.2.3: an empty port is allowed
      {"192.0.2.1", AuthorityError::None},
      {"192.0.2.1:80", AuthorityError::None},
      {"[::1]", AuthorityError::None},
      {"[::1]:443", AuthorityError::None},
      {"[2001:db8::7]:80", AuthorityError::None},
      {"[::ffff:192.0.2.1]", AuthorityError::None},  // IPv6address with a dotted quad
  });
}

// RFC 9112 3.2: a Host that is not uri-host [":" port] is a 400.
TEST(AuthorityRfc3986, InvalidHostsAreRefused) {
  expectAll({
      {"", AuthorityError::Empty},
      {":80", AuthorityError::Empty},
      {"exa mple.com", AuthorityError::BadHost},
      {"example.com ", AuthorityError::BadHost},
      {"a\tb", AuthorityError::BadHost},
      {"a,b", AuthorityError::BadHost},  // a list: some servers take the first, some the last
      {"example.com, other.com", AuthorityError::BadHost},
      {"%65xample.com", AuthorityError::BadHost},  // escapes: decoded by some, not by the routes
      {"exa/mple.com", AuthorityError::BadHost},
      {"exa\\mple.com", AuthorityError::BadHost},
      {"example.com?x", AuthorityError::BadHost},
      {"example.com#x", AuthorityError::BadHost},
      {"a;b", AuthorityError::BadHost},
      {"ex\xC3\xA9mple.com", AuthorityError::BadHost},  // raw UTF-8: an IDN goes as punycode
      {"::1", AuthorityError::Empty},  // an IPv6 address needs its brackets
  });
}

// RFC 1034 3.1: a DNS name has no empty label; one trailing dot (a fully
// qualified name) is the only dot that may end it.
TEST(AuthorityRfc1034, EmptyLabelsAreRefused) {
  expectAll({
      {"example.com.", AuthorityError::None},
      {"example.com.:8080", AuthorityError::None},
      {"example.com..", AuthorityError::EmptyLabel},
      {".example.com", AuthorityError::EmptyLabel},
      {"admin..example.com", AuthorityError::EmptyLabel},
      {".", AuthorityError::EmptyLabel},
      {"..:80", AuthorityError::EmptyLabel},
  });
}

// RFC 9110 4.2.4: userinfo in an http URI is an error for its recipient.
TEST(AuthorityRfc9110, UserinfoIsRefused) {
  expectAll({
      {"user@example.com", AuthorityError::Userinfo},
      {"user:pass@example.com:80", AuthorityError::Userinfo},
      {"@example.com", AuthorityError::Userinfo},
      {"example.com@evil.com", AuthorityError::Userinfo},
  });
}

// RFC 3986 3.2.3, and TCP: digits only, at most 65535.
TEST(AuthorityRfc3986, BadPortsAreRefused) {
  expectAll({
      {"example.com:abc", AuthorityError::BadPort},
      {"example.com:80a", AuthorityError::BadPort},
      {"example.com:+80", AuthorityError::BadPort},
      {"example.com:-1", AuthorityError::BadPort},
      {"example.com:65536", AuthorityError::BadPort},
      {"example.com:4294967376", AuthorityError::BadPort},  // 2^32 + 80: wraps to 80 in a 32-bit parser
      {"example.com:000080", AuthorityError::BadPort},
      {"example.com:80:80", AuthorityError::BadPort},
      {"example.com: 80", AuthorityError::BadPort},
      {"[::1]:x", AuthorityError::BadPort},
  });
}

// RFC 3986 3.2.2: IP-literal = "[" ( IPv6address / IPvFuture ) "]".
TEST(AuthorityRfc3986, BadIpLiteralsAreRefused) {
  expectAll({
      {"[", AuthorityError::BadIpLiteral},
      {"[::1", AuthorityError::BadIpLiteral},
      {"[]", AuthorityError::BadIpLiteral},
      {"[::g]", AuthorityError::BadIpLiteral},
      {"[1:2:3:4:5:6:7:8:9]", AuthorityError::BadIpLiteral},
      {"[::1%25eth0]", AuthorityError::BadIpLiteral},  // RFC 6874 zone ids: not in a Host
      {"[v1.fe]", AuthorityError::BadIpLiteral},       // IPvFuture: nothing speaks it
      {"[192.0.2.1]", AuthorityError::BadIpLiteral},
      {"[::ffff:192.0.2.01]", AuthorityError::BadIpLiteral},  // dec-octet has no leading zero
      {"[::1]x", AuthorityError::BadHost},
      {"[::1]]", AuthorityError::BadHost},
  });
}

// RFC 9112 3.2.3: authority-form = uri-host ":" port.
TEST(AuthorityRfc9112, AuthorityFormNeedsAPort) {
  expectAll(
      {
          {"example.com:443", AuthorityError::None},
          {"[::1]:443", AuthorityError::None},
          {"example.com", AuthorityError::MissingPort},
          {"example.com:", AuthorityError::MissingPort},
          {"[::1]", AuthorityError::MissingPort},
      },
      /*port_required=*/true);
}

}  // namespace
}  // namespace sluice::http
