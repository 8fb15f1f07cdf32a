#pragma once
// The four forms of an HTTP/1 request-target (RFC 9112 3.2) and which
// method may use which. The HTTP/1 parser calls parseRequestTarget() on
// every request line; a target in no valid form is a 400 and the
// connection closes, since nothing after such a line can be trusted to
// start a request. A pure function of its input (any thread, no
// allocation); the views point into `target`.
//
// - origin-form `/path?query`: any method but CONNECT (3.2.1).
// - absolute-form `http://authority/path?query` (3.2.2), any method but
//   CONNECT: the scheme is http or https (any case), the authority passes
//   checkAuthority() (no userinfo, not empty) and stands in for Host; the
//   request goes on with the path and query alone.
// - authority-form `host:port`: CONNECT only, and CONNECT only so (3.2.3).
// - asterisk-form `*`: OPTIONS only (3.2.4).
// Bytes: visible ASCII only. Controls, spaces and DEL end or break the
// request line; bytes above 0x7E are not URI characters (RFC 3986 2: a
// client percent-encodes them), and a decoder guessing at them is how two
// readers of one path disagree; '#' starts a fragment, which a client
// never sends (RFC 9112 3.2). '\' and escapes are left to the path
// normalizer (proxy/http/path_normalizer.h), which knows the listener's
// settings.

#include <cstdint>
#include <string_view>

namespace sluice::http {

enum class TargetForm : uint8_t { Origin, Absolute, Authority, Asterisk };

struct RequestTarget {
  TargetForm form = TargetForm::Origin;
  // Absolute- and authority-form: the authority, as sent.
  std::string_view authority;
  // Origin-form: the target. Absolute-form: what follows the authority,
  // which may be empty or start with '?' (RFC 9112 3.2.1 then sends "/").
  std::string_view path;
  // Non-empty: the target is in no valid form (400); says why.
  std::string_view error;
};

RequestTarget parseRequestTarget(std::string_view method, std::string_view target);

}  // namespace sluice::http
