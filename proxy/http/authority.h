#pragma once
// Whether a URI authority is one an HTTP request may name: the Host field
// (RFC 9112 3.2: `Host = uri-host [ ":" port ]`) and the authority of an
// absolute-form or authority-form request-target (3.2.2, 3.2.3). A pure
// function of its input (any thread); it never allocates.
//
// The grammar is RFC 3986 3.2.2/3.2.3, with a narrower reg-name:
// - host: an IP-literal `[IPv6address]` (no zone id, no IPvFuture), or a
//   name of letters, digits, '-', '.', '_' and '~'. RFC 3986 also allows
//   percent-escapes and the sub-delims (`!$&'()*+,;=`) there; no DNS name has
//   them, and they are how one Host reads as two names (a ',' list, a
//   decoded '%2e'), so they are refused. An IPv4 address is a name of digits
//   and dots. Labels are not empty: no leading dot, no "..", at most one
//   trailing dot (a fully qualified name, RFC 1034 3.1).
// - userinfo (`user@host`) is refused (RFC 9110 4.2.4: a recipient treats it
//   as an error).
// - port: up to five digits, at most 65535 (a longer one overflows into a
//   different port in some parsers). An empty port after ':' is allowed,
//   as RFC 3986 3.2.3 allows it, unless a port is required.

#include <cstdint>
#include <string_view>

namespace sluice::http {

enum class AuthorityError : uint8_t {
  None,
  Empty,         // no host at all (RFC 9110 4.2.1: an http URI's host is never empty)
  Userinfo,      // "user@host"
  BadHost,       // a byte outside the reg-name above
  EmptyLabel,    // ".a", "a..b", "a..": a DNS name has no empty label
  BadIpLiteral,  // "[...]" that is not an IPv6 address
  BadPort,       // not 0-65535 in at most five digits
  MissingPort,   // authority-form (CONNECT) needs host:port
};

AuthorityError checkAuthority(std::string_view authority, bool port_required = false);
// The reason in words, for a 400's details.
std::string_view authorityErrorText(AuthorityError e);

}  // namespace sluice::http
