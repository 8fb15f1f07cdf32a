#pragma once
// A raw HTTP/1.1 client over one socket: the test writes exactly the bytes
// it wants (malformed, pipelined, half a header block) and reads responses
// back one at a time with a parser that is not the proxy's.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/support/http_message.h"
#include "tests/integration/support/net.h"

namespace sluice::itest {

struct HttpReply {
  std::string version;  // "HTTP/1.1"
  int status = 0;       // 0: no status line arrived
  std::string reason;
  HeaderList headers;
  HeaderList trailers;
  std::string body;              // the first `keep` bytes of the body
  uint64_t body_bytes = 0;
  uint64_t body_checksum = 0;
  std::vector<int> interim;      // 1xx statuses (but 101) received before this one
  bool complete = false;         // the whole message arrived, framed as declared
  std::string error;             // why not complete
  std::optional<std::string> header(std::string_view name) const { return findHeader(headers, name); }
  std::string describe() const;  // status line, headers, body size, error
};

struct ReadOptions {
  bool head_request = false;  // the response to a HEAD has no body whatever it declares
  bool stop_at_interim = false;  // return a 1xx (e.g. 100 Continue) instead of skipping it
  size_t keep = 1 << 20;
};

class RawHttpClient {
 public:
  // Connects to 127.0.0.1:port; check connected().
  explicit RawHttpClient(uint16_t port, Millis connect_timeout = Millis(2000));
  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  int connectError() const { return connect_err_; }

  // Sends everything in one send() call where the kernel allows.
  bool send(std::string_view bytes, Millis timeout = Millis(5000));
  // Reads one response.
  HttpReply read(Millis timeout = Millis(5000), ReadOptions opts = {});
  // send + read.
  HttpReply roundTrip(std::string_view request, Millis timeout = Millis(5000), ReadOptions opts = {});
  // Bytes received but not yet part of a returned reply.
  std::string& pending() { return reader_.pending(); }
  WireReader& reader() { return reader_; }
  // True when the peer closed (EOF or RST) within `timeout` and sent no
  // further bytes; `*extra` gets any bytes that did arrive.
  bool waitClosed(Millis timeout, std::string* extra = nullptr);
  void shutdownWrite();

 private:
  int connect_err_ = 0;  // before fd_: the constructor fills it while making fd_
  Fd fd_;
  WireReader reader_;
};

// Reads one response from `in`.
HttpReply readHttpReply(WireReader& in, Deadline deadline, ReadOptions opts = {});

}  // namespace sluice::itest
