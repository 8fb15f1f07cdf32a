#pragma once
// How an `http` listener normalizes a request's path before anything looks
// at it (routes, filters, authz, the upstream). Plain settings, read with
// the listener's other settings (config/http_connection.h); the proxy
// applies them (proxy/http/path_normalizer.h).

#include <optional>
#include <string_view>

namespace sluice::config {

// A %2F or %5C in the path: an upstream may decode it into a separator the
// routes never saw, so the safe default refuses it.
enum class EscapedSlashes {
  Reject,               // default: 400
  Keep,                 // forwarded as an opaque escape (hex upper-cased)
  UnescapeAndRedirect,  // 307 to the path with them decoded to '/' and normalized
  UnescapeAndForward,   // decoded to '/', then normalized and forwarded
};
std::optional<EscapedSlashes> parseEscapedSlashes(std::string_view name);
std::string_view escapedSlashesName(EscapedSlashes action);

struct PathNormalizationSettings {
  // RFC 3986 6.2.2: remove dot segments, decode escaped unreserved
  // characters, upper-case the hex of other escapes; a path climbing above
  // the root is a 400.
  bool normalize_path = true;
  bool merge_slashes = true;  // "//a///b" is "/a/b"
  EscapedSlashes path_with_escaped_slashes = EscapedSlashes::Reject;
  // A literal '\' is a 400; when false (and normalize_path) it is read as
  // '/', as WHATWG URL parsing and Windows servers do.
  bool reject_backslash = true;
  // ".;x" and "..;x" segments are a 400: Java servlet containers strip the
  // ";x" and then treat the segment as a dot segment.
  bool reject_path_parameters_dot_segments = true;
  // UTF-8 that no decoder may accept (RFC 3629 3) but a lenient one reads as
  // ASCII, escaped or raw, is a 400: overlong forms ("%C0%AE" for '.',
  // "%C0%AF" and "%E0%80%AF" for '/', "%C1%9C" for '\'), which turn into dot
  // segments past the routes, and the pre-2003 five- and six-byte forms
  // (lead bytes F8 to FF). When false they are forwarded as sent.
  bool reject_overlong_utf8 = true;
};

}  // namespace sluice::config
