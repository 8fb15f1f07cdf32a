// parseRequestTarget: the four request-target forms of RFC 9112 3.2 and
// the methods that may use them.
#include "proxy/http/request_target.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::http {
namespace {

void expectRefused(std::string_view method, std::string_view target) {
  EXPECT_FALSE(parseRequestTarget(method, target).error.empty()) << method << " " << target;
}

// RFC 9112 3.2.1: origin-form = absolute-path [ "?" query ].
TEST(RequestTargetRfc9112, OriginForm_3_2_1) {
  for (const char* target : {"/", "/a/b?c=d", "//x", "/a?b?c", "/%41", "/a\\b", "/x/../y", "/a|b[c]"}) {
    const RequestTarget t = parseRequestTarget("GET", target);
    EXPECT_TRUE(t.error.empty()) << target << ": " << t.error;
    EXPECT_EQ(t.form, TargetForm::Origin) << target;
    EXPECT_EQ(t.path, target);
    EXPECT_TRUE(t.authority.empty());
  }
}

// RFC 9112 3.2.2: absolute-form; its authority stands in for Host, and
// the path goes on alone (3.2.1: "/" when empty).
TEST(RequestTargetRfc9112, AbsoluteForm_3_2_2) {
  struct Case {
    const char* target;
    const char* authority;
    const char* path;
  };
  for (const Case& c : {
           Case{"http://example.com/a/b?c", "example.com", "/a/b?c"},
           Case{"https://example.com:8443/", "example.com:8443", "/"},
           Case{"HTTP://Example.com/x", "Example.com", "/x"},  // RFC 3986 3.1: schemes are case-insensitive
           Case{"http://example.com", "example.com", ""},
           Case{"http://example.com?q=1", "example.com", "?q=1"},
           Case{"http://[::1]:80/x/../admin", "[::1]:80", "/x/../admin"},
       }) {
    const RequestTarget t = parseRequestTarget("GET", c.target);
    EXPECT_TRUE(t.error.empty()) << c.target << ": " << t.error;
    EXPECT_EQ(t.form, TargetForm::Absolute) << c.target;
    EXPECT_EQ(t.authority, c.authority) << c.target;
    EXPECT_EQ(t.path, c.path) << c.target;
  }
}

// RFC 9110 4.2.4 (userinfo is an error), 4.2.1 (an http URI's host is
// never empty); only http and https name an origin this proxy serves.
TEST(RequestTargetRfc9112, AbsoluteFormRefusals_3_2_2) {
  expectRefused("GET", "http://user@example.com/");
  expectRefused("GET", "http://user:pw@example.com/");
  expectRefused("GET", "http://example.com@evil.com/");
  expectRefused("GET", "http:///x");
  expectRefused("GET", "http://");
  expectRefused("GET", "http://:80/");
  expectRefused("GET", "ftp://example.com/");
  expectRefused("GET", "file:///etc/passwd");
  expectRefused("GET", "ws://example.com/");
  expectRefused("GET", "http:/example.com/");   // not "//" authority
  expectRefused("GET", "http:example.com");
  expectRefused("GET", "http://exa mple.com/");  // (the request line cannot even carry it)
  expectRefused("GET", "http://example.com:99999/");
  expectRefused("GET", "http://example.com\\@evil.com/");
  expectRefused("GET", "http://a,b/");
  expectRefused("CONNECT", "http://example.com:443/");  // CONNECT is authority-form only
}

// RFC 9112 3.2.3: authority-form, for CONNECT and only for it.
TEST(RequestTargetRfc9112, AuthorityForm_3_2_3) {
  const RequestTarget t = parseRequestTarget("CONNECT", "example.com:443");
  EXPECT_TRUE(t.error.empty()) << t.error;
  EXPECT_EQ(t.form, TargetForm::Authority);
  EXPECT_EQ(t.authority, "example.com:443");
  expectRefused("CONNECT", "example.com");  // the port is required
  expectRefused("CONNECT", "/");
  expectRefused("CONNECT", "*");
  expectRefused("CONNECT", "user@example.com:443");
  expectRefused("GET", "example.com:443");
  expectRefused("POST", "localhost:80");
}

// RFC 9112 3.2.4: asterisk-form, for OPTIONS and only for it.
TEST(RequestTargetRfc9112, AsteriskForm_3_2_4) {
  const RequestTarget t = parseRequestTarget("OPTIONS", "*");
  EXPECT_TRUE(t.error.empty()) << t.error;
  EXPECT_EQ(t.form, TargetForm::Asterisk);
  EXPECT_EQ(t.path, "*");
  expectRefused("GET", "*");
  expectRefused("OPTIONS", "*x");
  expectRefused("OPTIONS", "**");
}

// RFC 9112 3.2: no fragment; RFC 3986 2: only ASCII; RFC 9112 3: no
// whitespace or controls inside the request line.
TEST(RequestTargetRfc9112, BytesOutsideAnyForm_3_2) {
  expectRefused("GET", "");
  expectRefused("GET", "/a#b");
  expectRefused("GET", "/#");
  expectRefused("GET", "http://example.com/#x");
  expectRefused("GET", "/a b");
  expectRefused("GET", "/a\tb");
  expectRefused("GET", std::string("/a\0b", 4));
  expectRefused("GET", "/a\x7f");
  expectRefused("GET", "/caf\xC3\xA9");
  expectRefused("GET", "/\xC0\xAE\xC0\xAE/admin");
  expectRefused("GET", "a/b");
  expectRefused("GET", "?x");
}

}  // namespace
}  // namespace sluice::http
