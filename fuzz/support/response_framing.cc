#include "fuzz/support/response_framing.h"

#include <cctype>
#include <cstdint>

namespace sluice::fuzz {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool sameText(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// What the head's fields say about the body.
struct HeadFacts {
  int status = 0;
  bool has_length = false;
  uint64_t length = 0;
  bool chunked = false;
};

HeadFacts readHead(std::string_view head) {
  HeadFacts f;
  // "HTTP/1.1 200 ..."; the codec accepted it, so the three digits are there.
  for (size_t i = 9; i < 12 && i < head.size(); ++i) f.status = f.status * 10 + (head[i] - '0');
  size_t line = head.find(kCrlf) + 2;
  while (line < head.size()) {
    const size_t eol = head.find(kCrlf, line);
    const std::string_view field = head.substr(line, eol - line);
    line = eol + 2;
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = trim(field.substr(colon + 1));
    if (sameText(name, "content-length") && !f.has_length) {
      f.has_length = true;
      // Duplicates ("5, 5") agree, or the codec would have refused them.
      for (char c : value) {
        if (c < '0' || c > '9') break;
        f.length = f.length * 10 + static_cast<uint64_t>(c - '0');
      }
    } else if (sameText(name, "transfer-encoding")) {
      // The last coding decides; empty list elements do not count (RFC 9110 5.6.1).
      std::string_view list = value;
      while (!list.empty() && (list.back() == ',' || list.back() == ' ' || list.back() == '\t')) list.remove_suffix(1);
      const size_t comma = list.rfind(',');
      f.chunked = sameText(trim(comma == std::string_view::npos ? list : list.substr(comma + 1)), "chunked");
    }
  }
  return f;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Chunks from `at`; fills body and end, or leaves complete false.
void readChunks(std::string_view wire, size_t at, ResponseFraming& r) {
  for (;;) {
    uint64_t size = 0;
    size_t p = at;
    for (; p < wire.size() && hexDigit(wire[p]) >= 0; ++p) {
      size = size * 16 + static_cast<uint64_t>(hexDigit(wire[p]));
      if (size > wire.size()) return;  // more than the input holds: incomplete
    }
    if (p == at) return;  // a chunk line needs a size: malformed, never complete
    const size_t eol = wire.find(kCrlf, p);  // past any chunk extension
    if (eol == std::string_view::npos) return;
    at = eol + 2;
    if (size == 0) {
      if (wire.substr(at, 2) == kCrlf) {
        r.end = at + 2;
      } else {
        const size_t trailers_end = wire.find("\r\n\r\n", at);
        if (trailers_end == std::string_view::npos) return;
        r.end = trailers_end + 4;
      }
      r.complete = true;
      return;
    }
    if (wire.size() - at < size + 2) return;
    r.body.append(wire.substr(at, size));
    at += size + 2;
  }
}

}  // namespace

ResponseFraming frameResponse(std::string_view wire, size_t from, bool head_request, bool upgrade) {
  ResponseFraming r;
  size_t at = from;
  HeadFacts f;
  for (;;) {
    while (wire.substr(at, 2) == kCrlf) at += 2;
    const size_t blank = wire.find("\r\n\r\n", at);
    if (blank == std::string_view::npos) return r;
    f = readHead(wire.substr(at, blank + 2 - at));
    at = blank + 4;
    if (f.status >= 200 || f.status == 101) break;
  }
  r.status = f.status;
  r.head_end = at;
  if (f.status == 101 && upgrade) {
    r.close_delimited = true;
  } else if (head_request || f.status < 200 || f.status == 204 || f.status == 304) {
    r.end = at;
    r.complete = true;
    return r;
  } else if (f.chunked) {
    readChunks(wire, at, r);
    return r;
  } else if (f.has_length) {
    if (wire.size() - at < f.length) return r;
    r.body.assign(wire.substr(at, f.length));
    r.end = at + f.length;
    r.complete = true;
    return r;
  } else {
    r.close_delimited = true;
  }
  r.body.assign(wire.substr(at));
  r.end = wire.size();
  r.complete = true;
  return r;
}

}  // namespace sluice::fuzz
