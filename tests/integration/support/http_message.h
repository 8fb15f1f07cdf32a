#pragma once
// HTTP/1.1 wire helpers for the integration tests, shared by the test
// upstream (http_upstream.h) and the raw client (http_client.h). Deliberately
// independent of the proxy's own codec: a test must not parse the proxy's
// output with the code under test.

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/integration/support/net.h"
#include "tests/integration/support/stream.h"

namespace sluice::itest {

// Header fields in arrival order, names as sent.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

bool equalsIgnoreCase(std::string_view a, std::string_view b);
// The first value of `name` (case-insensitive), or nullopt.
std::optional<std::string> findHeader(const HeaderList& headers, std::string_view name);
// How many fields are named `name`.
size_t countHeader(const HeaderList& headers, std::string_view name);
// "a: 1, b: 2" for failure messages.
std::string describeHeaders(const HeaderList& headers);

// Bytes read from a socket but not consumed yet, plus the socket. Every read
// is bounded by a Deadline; the reader never blocks without one.
class WireReader {
 public:
  explicit WireReader(int fd) : fd_(fd) {}
  int fd() const { return fd_; }
  // Bytes buffered and not consumed.
  std::string& pending() { return buf_; }
  // Reads more into pending(): >0 bytes, 0 at EOF, -1 on error/deadline (err()).
  ssize_t fill(Deadline deadline, size_t max = 256 * 1024);
  // Reads until pending() contains `delim`; returns the bytes up to and
  // including it (consumed), or nullopt on EOF/error/deadline/over `limit`.
  std::optional<std::string> readUntil(std::string_view delim, Deadline deadline, size_t limit);
  // Consumes up to n bytes, reading as needed, handing each piece to `sink`.
  // Returns the number consumed (< n on EOF/error/deadline).
  template <class Sink>
  uint64_t consume(uint64_t n, Deadline deadline, Sink&& sink);
  uint64_t bytesRead() const { return bytes_read_; }
  bool eof() const { return eof_; }
  int err() const { return err_; }
  // "EOF", "Connection reset by peer", "timed out", ...
  std::string describeEnd() const;

 private:
  int fd_;
  std::string buf_;
  size_t off_ = 0;  // consumed prefix of buf_, dropped lazily
  uint64_t bytes_read_ = 0;
  bool eof_ = false;
  int err_ = 0;
  void compact();
};

template <class Sink>
uint64_t WireReader::consume(uint64_t n, Deadline deadline, Sink&& sink) {
  uint64_t done = 0;
  while (done < n) {
    if (buf_.size() == off_) {
      buf_.clear();
      off_ = 0;
      // Never read past the bytes wanted: what follows belongs to the next message.
      size_t want = static_cast<size_t>(std::min<uint64_t>(n - done, 1 << 20));
      if (fill(deadline, want) <= 0) break;
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(n - done, buf_.size() - off_));
    sink(std::string_view(buf_.data() + off_, take));
    off_ += take;
    done += take;
  }
  compact();
  return done;
}

// One decoded message body's facts.
struct BodyResult {
  uint64_t bytes = 0;
  uint64_t checksum = 0;  // Checksum (stream.h) over the body bytes
  std::string kept;       // the first `keep` bytes
  HeaderList trailers;
  bool complete = false;  // the framing ended cleanly
  std::string error;      // why not complete
};

// Reads a chunked body (after the head) including its trailer section.
BodyResult readChunkedBody(WireReader& in, Deadline deadline, size_t keep);
// Reads exactly `length` body bytes.
BodyResult readLengthBody(WireReader& in, uint64_t length, Deadline deadline, size_t keep);
// Reads until EOF (a close-delimited response body).
BodyResult readBodyToEof(WireReader& in, Deadline deadline, size_t keep);

// Parses "Name: value" lines (CRLF separated, no final empty line needed).
// False when a line has no colon.
bool parseHeaderLines(std::string_view block, HeaderList& out);

// Builds a request head: "METHOD TARGET HTTP/1.1\r\nHost: host\r\n<headers>\r\n".
// `host` empty: no Host field.
std::string requestHead(std::string_view method, std::string_view target, std::string_view host,
                        const HeaderList& headers = {}, std::string_view version = "HTTP/1.1");
// A GET with Host and no body.
std::string getRequest(std::string_view target, std::string_view host = "example.com",
                       const HeaderList& headers = {});
// Encodes `body` as chunks of at most `chunk` bytes, the last-chunk, the
// trailers and the final CRLF.
std::string chunkedBody(std::string_view body, size_t chunk, const HeaderList& trailers = {});

std::string_view reasonPhrase(int status);

}  // namespace sluice::itest
