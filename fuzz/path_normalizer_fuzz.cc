// libFuzzer target: the request path normalizer (proxy/http/path_normalizer.h).
// The first byte picks the settings; the rest is the :path. Besides not
// crashing, the result must keep the promises routing relies on.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/http/path_normalizer.h"

namespace {

using sluice::config::EscapedSlashes;
using sluice::config::PathNormalizationSettings;
using sluice::http::NormalizedPath;

void check(bool ok) {
  if (!ok) std::abort();
}

std::string_view pathPart(std::string_view p) { return p.substr(0, p.find('?')); }

bool hasDotSegment(std::string_view path) {
  size_t i = 0;
  while (i < path.size()) {
    const size_t start = i + 1;
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start, end - start);
    if (seg == "." || seg == "..") return true;
    i = end;
  }
  return false;
}

bool hasEscapedSlash(std::string_view path) {
  for (size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] != '%') continue;
    const char a = path[i + 1], b = static_cast<char>(path[i + 2] & ~0x20);
    if ((a == '2' && b == 'F') || (a == '5' && b == 'C')) return true;
  }
  return false;
}

// The byte values of `path` with escapes decoded (a malformed one is taken
// as is): what a lenient upstream would hand its UTF-8 decoder.
std::string decoded(std::string_view path) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex(path[i + 1]) >= 0 && hex(path[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2])));
      i += 2;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

// RFC 3629: overlong forms (C0, C1 leads; E0 80-9F; F0 80-8F) and the old
// five- and six-byte forms (F8-FF leads).
bool hasOverlongUtf8(std::string_view path) {
  const std::string bytes = decoded(path);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b == 0xC0 || b == 0xC1 || b >= 0xF8) return true;
    if (i + 1 == bytes.size()) break;
    const auto n = static_cast<unsigned char>(bytes[i + 1]);
    if ((b == 0xE0 && n >= 0x80 && n <= 0x9F) || (b == 0xF0 && n >= 0x80 && n <= 0x8F)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t bits = data[0];
  PathNormalizationSettings s;
  s.normalize_path = bits & 1;
  s.merge_slashes = bits & 2;
  s.reject_backslash = bits & 4;
  s.reject_path_parameters_dot_segments = bits & 8;
  s.path_with_escaped_slashes = static_cast<EscapedSlashes>((bits >> 4) & 3);
  s.reject_overlong_utf8 = bits & 64;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string scratch;
  const NormalizedPath r = sluice::http::normalizePath(input, s, scratch);
  if (r.kind == NormalizedPath::Kind::Reject) return 0;
  const std::string out(r.path);
  // A redirect never points off-site ("//host", "/\\host").
  if (r.kind == NormalizedPath::Kind::Redirect) check(out.size() < 2 || (out[1] != '/' && out[1] != '\\'));
  // The query is never altered.
  const size_t q_in = input.find('?'), q_out = out.find('?');
  check((q_in == std::string_view::npos) == (q_out == std::string::npos));
  if (q_in != std::string_view::npos) check(input.substr(q_in) == std::string_view(out).substr(q_out));
  if (out.empty() || out[0] != '/') return 0;  // not origin-form: left alone
  const std::string_view path = pathPart(out);
  if (s.normalize_path) check(!hasDotSegment(path));
  if (s.merge_slashes) check(path.find("//") == std::string_view::npos);
  if (s.path_with_escaped_slashes == EscapedSlashes::Reject || s.path_with_escaped_slashes == EscapedSlashes::UnescapeAndForward ||
      s.path_with_escaped_slashes == EscapedSlashes::UnescapeAndRedirect)
    check(!hasEscapedSlash(path));
  if (s.reject_overlong_utf8) check(!hasOverlongUtf8(path));
  // Normalizing twice changes nothing.
  std::string scratch2;
  const NormalizedPath again = sluice::http::normalizePath(out, s, scratch2);
  check(again.kind == NormalizedPath::Kind::Unchanged ||
        (again.kind == NormalizedPath::Kind::Normalized && again.path == out));
  return 0;
}
