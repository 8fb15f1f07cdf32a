#include "tests/integration/support/http_message.h"

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstring>

namespace sluice::itest {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> findHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (equalsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

size_t countHeader(const HeaderList& headers, std::string_view name) {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(),
                                           [&](const auto& kv) { return equalsIgnoreCase(kv.first, name); }));
}

std::string describeHeaders(const HeaderList& headers) {
  std::string out;
  for (const auto& [k, v] : headers) out += (out.empty() ? "" : ", ") + k + ": " + v;
  return "{" + out + "}";
}

void WireReader::compact() {
  if (off_ == 0) return;
  if (off_ >= buf_.size()) {
    buf_.clear();
  } else {
    buf_.erase(0, off_);
  }
  off_ = 0;
}

ssize_t WireReader::fill(Deadline deadline, size_t max) {
  compact();
  if (eof_) return 0;
  size_t old = buf_.size();
  buf_.resize(old + max);
  int err = 0;
  ssize_t n = recvSome(fd_, buf_.data() + old, max, deadline, &err);
  buf_.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
  if (n > 0) {
    bytes_read_ += static_cast<uint64_t>(n);
  } else if (n == 0) {
    eof_ = true;
  } else {
    err_ = err;
  }
  return n;
}

std::optional<std::string> WireReader::readUntil(std::string_view delim, Deadline deadline, size_t limit) {
  compact();
  size_t searched = 0;
  for (;;) {
    size_t start = searched >= delim.size() ? searched - delim.size() + 1 : 0;
    size_t at = buf_.find(delim, start);
    if (at != std::string::npos) {
      std::string out = buf_.substr(0, at + delim.size());
      off_ = at + delim.size();
      compact();
      return out;
    }
    searched = buf_.size();
    if (buf_.size() > limit) return std::nullopt;
    if (fill(deadline, 64 * 1024) <= 0) return std::nullopt;
  }
}

std::string WireReader::describeEnd() const {
  if (eof_) return "EOF";
  if (err_ == ETIMEDOUT) return "timed out";
  if (err_ != 0) return std::strerror(err_);
  return "still open";
}

bool parseHeaderLines(std::string_view block, HeaderList& out) {
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find("\r\n", pos);
    std::string_view line = block.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? block.size() : eol + 2;
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    out.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return true;
}

namespace {

void keepSome(std::string& kept, std::string_view piece, size_t keep) {
  if (kept.size() < keep) kept.append(piece.substr(0, keep - kept.size()));
}

}  // namespace

BodyResult readLengthBody(WireReader& in, uint64_t length, Deadline deadline, size_t keep) {
  BodyResult r;
  Checksum sum;
  r.bytes = in.consume(length, deadline, [&](std::string_view piece) {
    sum.update(piece.data(), piece.size());
    keepSome(r.kept, piece, keep);
  });
  r.checksum = sum.value();
  r.complete = r.bytes == length;
  if (!r.complete) {
    r.error = "body ended after " + std::to_string(r.bytes) + " of " + std::to_string(length) + " bytes: " +
              in.describeEnd();
  }
  return r;
}

BodyResult readBodyToEof(WireReader& in, Deadline deadline, size_t keep) {
  BodyResult r;
  Checksum sum;
  r.bytes = in.consume(UINT64_MAX, deadline, [&](std::string_view piece) {
    sum.update(piece.data(), piece.size());
    keepSome(r.kept, piece, keep);
  });
  r.checksum = sum.value();
  r.complete = in.eof();
  if (!r.complete) r.error = "close-delimited body ended by " + in.describeEnd();
  return r;
}

BodyResult readChunkedBody(WireReader& in, Deadline deadline, size_t keep) {
  BodyResult r;
  Checksum sum;
  auto fail = [&](std::string why) {
    r.checksum = sum.value();
    r.error = std::move(why) + " after " + std::to_string(r.bytes) + " body bytes (" + in.describeEnd() + ")";
    return r;
  };
  for (;;) {
    auto line = in.readUntil("\r\n", deadline, 4096);
    if (!line) return fail("no chunk-size line");
    std::string_view size_text(*line);
    size_text.remove_suffix(2);
    size_t semi = size_text.find(';');
    if (semi != std::string_view::npos) size_text = size_text.substr(0, semi);
    while (!size_text.empty() && (size_text.back() == ' ' || size_text.back() == '\t')) size_text.remove_suffix(1);
    if (size_text.empty() || size_text.size() > 15 ||
        size_text.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
      return fail("bad chunk-size line '" + *line + "'");
    }
    uint64_t size = std::stoull(std::string(size_text), nullptr, 16);
    if (size == 0) break;
    uint64_t got = in.consume(size, deadline, [&](std::string_view piece) {
      sum.update(piece.data(), piece.size());
      keepSome(r.kept, piece, keep);
    });
    r.bytes += got;
    if (got != size) return fail("chunk cut short");
    auto crlf = in.readUntil("\r\n", deadline, 2);
    if (!crlf || *crlf != "\r\n") return fail("no CRLF after chunk data");
  }
  // Trailer section: fields until an empty line.
  for (;;) {
    auto line = in.readUntil("\r\n", deadline, 64 * 1024);
    if (!line) return fail("trailer section cut short");
    if (*line == "\r\n") break;
    if (!parseHeaderLines(*line, r.trailers)) return fail("bad trailer line '" + *line + "'");
  }
  r.checksum = sum.value();
  r.complete = true;
  return r;
}

std::string requestHead(std::string_view method, std::string_view target, std::string_view host,
                        const HeaderList& headers, std::string_view version) {
  std::string out;
  out.append(method).append(" ").append(target).append(" ").append(version).append("\r\n");
  if (!host.empty()) out.append("Host: ").append(host).append("\r\n");
  for (const auto& [k, v] : headers) out.append(k).append(": ").append(v).append("\r\n");
  out.append("\r\n");
  return out;
}

std::string getRequest(std::string_view target, std::string_view host, const HeaderList& headers) {
  return requestHead("GET", target, host, headers);
}

std::string chunkedBody(std::string_view body, size_t chunk, const HeaderList& trailers) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t pos = 0; pos < body.size(); pos += chunk) {
    size_t n = std::min(chunk, body.size() - pos);
    std::string hex;
    for (size_t v = n; v > 0; v >>= 4) hex.insert(hex.begin(), kHex[v & 0xf]);
    out.append(hex).append("\r\n").append(body.substr(pos, n)).append("\r\n");
  }
  out.append("0\r\n");
  for (const auto& [k, v] : trailers) out.append(k).append(": ").append(v).append("\r\n");
  out.append("\r\n");
  return out;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

}  // namespace sluice::itest
