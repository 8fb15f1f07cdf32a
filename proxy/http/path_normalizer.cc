#include "proxy/http/path_normalizer.h"

#include <array>
#include <cstring>

namespace sluice::http {
namespace {

using config::EscapedSlashes;
using config::PathNormalizationSettings;
using Kind = NormalizedPath::Kind;

constexpr char kUpperHex[] = "0123456789ABCDEF";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 2.3: escapes of these are equivalent to the characters themselves.
bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// "." or ".." followed by ';': servlet containers drop the parameter and
// then resolve what is left as a dot segment.
bool isParameterDotSegment(std::string_view seg) {
  if (seg.size() < 2 || seg[0] != '.') return false;
  if (seg[1] == ';') return true;
  return seg.size() >= 3 && seg[1] == '.' && seg[2] == ';';
}

// RFC 3629 3 and 4. A lead byte that is always overlong (C0, C1: two bytes
// for at most 0x7F) or belongs to the five- and six-byte forms (F8-FF),
// which lenient decoders still take.
bool isOverlongLead(unsigned char b) { return b == 0xC0 || b == 0xC1 || b >= 0xF8; }
// E0 and F0 start a valid sequence only with A0-BF and 90-BF next (RFC 3629
// 4); 80-9F and 80-8F make it overlong, and anything else is no
// continuation at all, which a decoder that masks bits without checking
// them (E0 40 AE -> '.') reads as ASCII just the same. Every other lead
// byte decodes, masked or not, above 0x7F.
bool isOverlongPair(unsigned char lead, unsigned char next) {
  return (lead == 0xE0 && (next < 0xA0 || next > 0xBF)) || (lead == 0xF0 && (next < 0x90 || next > 0xBF));
}

// How the fast scan classifies a byte: most are plain and cost one load.
enum ByteClass : uint8_t { kPlain, kSpecial, kSlash, kQuery };
constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  t['%'] = t['\\'] = t['#'] = kSpecial;
  // Raw lead bytes of overlong forms (HTTP/2 may carry them; HTTP/1 refuses
  // every byte above 0x7E in the target).
  t[0xC0] = t[0xC1] = t[0xE0] = t[0xF0] = kSpecial;
  for (int b = 0xF8; b <= 0xFF; ++b) t[b] = kSpecial;
  t['/'] = kSlash;
  t['?'] = kQuery;
  return t;
}();

// A raw E0 or F0 starting a valid sequence (Devanagari, Thai, emoji in an
// HTTP/2 path) keeps the fast scan; so does any raw byte above 0x7F when
// overlong forms are let through.
bool rawLeadIsFine(std::string_view p, size_t i, const PathNormalizationSettings& s) {
  const auto b = static_cast<unsigned char>(p[i]);
  if (b < 0x80) return false;
  if (!s.reject_overlong_utf8) return true;
  if (b != 0xE0 && b != 0xF0) return false;
  return i + 1 < p.size() && !isOverlongPair(b, static_cast<unsigned char>(p[i + 1]));
}

// Whether normalizePath could change or refuse the path part of `p` (up to
// '?'): the whole cost of a normal path, one pass. Errs towards yes; the
// slow path then finds it unchanged.
bool needsWork(std::string_view p, const PathNormalizationSettings& s) {
  const size_t n = p.size();
  auto endsSegment = [&](size_t j) { return j == n || p[j] == '/' || p[j] == '?' || p[j] == ';'; };
  for (size_t i = 0; i < n; ++i) {
    switch (kByteClass[static_cast<unsigned char>(p[i])]) {
      case kPlain: continue;
      case kQuery: return false;
      case kSpecial:
        if (!rawLeadIsFine(p, i, s)) return true;
        continue;
      case kSlash: break;
    }
    if (i + 1 == n) return false;
    const char next = p[i + 1];
    if (next == '/' && s.merge_slashes) return true;
    if (next != '.') continue;
    // A segment starting with '.': ".", "..", ".;x" and "..;x" need work.
    size_t j = i + 2;
    if (j < n && p[j] == '.') ++j;
    if (endsSegment(j)) return true;
  }
  return false;
}

NormalizedPath reject(PathError e) { return {Kind::Reject, {}, e}; }

// Pass 1, into `out`: checks every escape and decodes or canonicalizes it
// (RFC 3986 2.1, 2.3, 6.2.2.1); '\' and escaped slashes as configured.
PathError decodePass(std::string_view in, const PathNormalizationSettings& s, std::string& out,
                     bool& unescaped_slash) {
  const size_t n = in.size();
  // The previous byte's value, escaped or raw, for the overlong pairs.
  unsigned char prev = 0;
  auto overlong = [&](unsigned char b) {
    const bool bad = s.reject_overlong_utf8 && (isOverlongLead(b) || isOverlongPair(prev, b));
    prev = b;
    return bad;
  };
  for (size_t i = 0; i < n; ++i) {
    const char c = in[i];
    if (c != '%' && overlong(static_cast<unsigned char>(c))) return PathError::OverlongUtf8;
    if (c == '#') return PathError::Fragment;
    if (c == '\\') {
      if (s.reject_backslash) return PathError::Backslash;
      out.push_back(s.normalize_path ? '/' : '\\');
      continue;
    }
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= n) return PathError::BadEscape;
    const int hi = hexValue(in[i + 1]);
    const int lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return PathError::BadEscape;
    const auto v = static_cast<unsigned char>(hi * 16 + lo);
    if (v == 0) return PathError::EncodedNul;
    if (overlong(v)) return PathError::OverlongUtf8;
    if (v == '/' || v == '\\') {
      switch (s.path_with_escaped_slashes) {
        case EscapedSlashes::Reject: return PathError::EscapedSlash;
        case EscapedSlashes::Keep:
          out.push_back('%');
          out.push_back(kUpperHex[hi]);
          out.push_back(kUpperHex[lo]);
          break;
        case EscapedSlashes::UnescapeAndRedirect:
        case EscapedSlashes::UnescapeAndForward:
          // %5C too: whoever would decode it to '\' may well read that as '/'.
          out.push_back('/');
          unescaped_slash = true;
          break;
      }
    } else if (!s.normalize_path) {
      out.append(in.substr(i, 3));
    } else if (isUnreserved(v)) {
      out.push_back(static_cast<char>(v));
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[hi]);
      out.push_back(kUpperHex[lo]);
    }
    i += 2;
  }
  return PathError::None;
}

// Pass 2, in place over `p[0, n)` (which starts with '/'): merges slashes and
// removes dot segments (RFC 3986 5.2.4), segment by segment. The output is
// always a run of "/segment" and never longer than what has been read, so
// writing never overtakes reading. Returns the new length, or 0 with `err`.
size_t segmentPass(char* p, size_t n, const PathNormalizationSettings& s, PathError& err) {
  size_t w = 0;
  size_t r = 0;
  while (r < n) {
    const size_t start = r + 1;  // p[r] == '/'
    size_t end = start;
    while (end < n && p[end] != '/') ++end;
    const std::string_view seg(p + start, end - start);
    const bool last = end == n;
    r = end;
    if (seg.empty() && s.merge_slashes) {
      // A trailing slash is kept; one merged into the previous slash is not doubled.
      if (last && (w == 0 || p[w - 1] != '/')) p[w++] = '/';
      continue;
    }
    if (s.reject_path_parameters_dot_segments && isParameterDotSegment(seg)) {
      err = PathError::PathParameterDotSegment;
      return 0;
    }
    if (s.normalize_path && (seg == "." || seg == "..")) {
      if (seg == "..") {
        if (w == 0) {
          err = PathError::AboveRoot;  // RFC 3986 5.2.4 would silently stay at the root
          return 0;
        }
        while (p[--w] != '/') {
        }
      }
      // "/a/b/.." is "/a/": the directory the dot segment named.
      if (last) p[w++] = '/';
      continue;
    }
    p[w++] = '/';
    std::memmove(p + w, seg.data(), seg.size());
    w += seg.size();
  }
  if (w == 0) p[w++] = '/';
  return w;
}

}  // namespace

std::string_view pathErrorText(PathError e) {
  switch (e) {
    case PathError::None: return "";
    case PathError::AboveRoot: return "dot segments climb above the root";
    case PathError::BadEscape: return "malformed percent-encoding";
    case PathError::EncodedNul: return "percent-encoded NUL";
    case PathError::EscapedSlash: return "escaped slash or backslash";
    case PathError::Backslash: return "backslash";
    case PathError::PathParameterDotSegment: return "dot segment with a path parameter";
    case PathError::Fragment: return "fragment";
    case PathError::OverlongUtf8: return "overlong UTF-8 sequence";
  }
  return "";
}

std::string_view pathErrorDetails(PathError e) {
  return e == PathError::EscapedSlash ? "escaped_slash" : "path_normalization_failed";
}

NormalizedPath normalizePath(std::string_view path, const PathNormalizationSettings& s, std::string& scratch) {
  if (path.empty() || path.front() != '/' || !needsWork(path, s)) return {Kind::Unchanged, path};
  const size_t q = path.find('?');
  const std::string_view bare = path.substr(0, q);

  scratch.clear();
  bool unescaped_slash = false;
  if (const PathError e = decodePass(bare, s, scratch, unescaped_slash); e != PathError::None) return reject(e);
  PathError err = PathError::None;
  const size_t n = segmentPass(scratch.data(), scratch.size(), s, err);
  if (err != PathError::None) return reject(err);
  scratch.resize(n);
  if (q != std::string_view::npos) scratch.append(path.substr(q));
  if (unescaped_slash && s.path_with_escaped_slashes == EscapedSlashes::UnescapeAndRedirect) {
    // A Location of "//host" or "/\host" is a network-path reference to
    // another host for a browser (possible with merge_slashes off or
    // backslashes allowed): refuse rather than redirect off-site.
    if (scratch.size() >= 2 && (scratch[1] == '/' || scratch[1] == '\\')) return reject(PathError::EscapedSlash);
    return {Kind::Redirect, scratch};
  }
  if (scratch == path) return {Kind::Unchanged, path};
  return {Kind::Normalized, scratch};
}

}  // namespace sluice::http
