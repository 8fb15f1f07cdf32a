#pragma once
// The one normalization of a request's path. The connection manager runs it
// when a request's headers arrive, before the route is looked up, and
// rewrites :path with the result: routes, every filter (authz, rate limits)
// and the upstream then agree on one path, so "/x/../admin", "/%61dmin" or
// "//admin" cannot pass a rule on "/admin" and still reach /admin upstream.
//
// normalizePath() is a pure function of its input and settings (any thread;
// the entry point for a fuzzer). A path already in normal form costs one
// scan and touches neither the scratch nor the heap; only a path that
// changes is copied, into the caller's reused scratch. The query is never
// looked into or altered. Paths that are not origin-form ("*", an authority)
// are left alone: no route prefix can match them. An HTTP/1 absolute-form
// target arrives here as its path alone (the parser takes the authority
// out, proxy/http/request_target.h), so it is normalized like any other.

#include <cstdint>
#include <string>
#include <string_view>

#include "config/path_normalization.h"

namespace sluice::http {

enum class PathError : uint8_t {
  None,
  AboveRoot,                // ".." past the first segment
  BadEscape,                // '%' not followed by two hex digits (RFC 3986 2.1)
  EncodedNul,               // %00
  EscapedSlash,             // %2F or %5C with path_with_escaped_slashes: reject
  Backslash,                // a literal '\' with reject_backslash
  PathParameterDotSegment,  // ".;x" or "..;x" with reject_path_parameters_dot_segments
  Fragment,                 // '#': a fragment never belongs in a request (RFC 9112 3.2)
  OverlongUtf8,             // an overlong UTF-8 form (RFC 3629 3) with reject_overlong_utf8
};

// The reason in words, for the 400's body.
std::string_view pathErrorText(PathError e);
// The access log's details: "escaped_slash" or "path_normalization_failed".
std::string_view pathErrorDetails(PathError e);

struct NormalizedPath {
  enum class Kind : uint8_t {
    Unchanged,   // `path` is the input
    Normalized,  // `path` (in the scratch) replaces :path
    Redirect,    // escaped slashes with unescape_and_redirect: answer 307 to `path`
    Reject,      // answer 400; `error` says why
  };
  Kind kind = Kind::Unchanged;
  std::string_view path;  // with the query, when there was one
  PathError error = PathError::None;
};

// `path` is the :path as received (query included). The result may view
// `scratch`, valid until it is next written.
NormalizedPath normalizePath(std::string_view path, const config::PathNormalizationSettings& settings,
                             std::string& scratch);

}  // namespace sluice::http
