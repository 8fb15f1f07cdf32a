#pragma once
// TransportSocket: how a Connection moves bytes over its fd. Raw TCP today;
// TLS plugs in here later without the Connection or any filter changing.
// Called only on the connection's worker thread.

#include <cstddef>
#include <memory>
#include <string_view>

namespace sluice::net {

class Buffer;

struct IoResult {
  enum class Status {
    Ok,      // progress made or would block; keep going
    Closed,  // read: peer sent FIN (end of stream)
    Error,   // fatal I/O error; `err` holds errno (ECONNRESET: peer reset)
  };
  Status status = Status::Ok;
  size_t bytes = 0;
  int err = 0;
};

class TransportSocket {
 public:
  virtual ~TransportSocket() = default;
  // The fd is connected (accepted, or outbound connect finished).
  virtual void onConnected(int fd) = 0;
  // Appends to `into` until the socket would block, the peer closed, an
  // error, or `max` bytes were read. With `drain` false a short read ends
  // the call (the socket is empty: saves the EAGAIN syscall); the caller
  // passes true when a FIN may be pending behind the data.
  virtual IoResult doRead(int fd, Buffer& into, size_t max, bool drain) = 0;
  // Writes from `from` (draining what was sent) until empty or would block.
  virtual IoResult doWrite(int fd, Buffer& from) = 0;
  // Sends our end of stream once everything queued is written.
  virtual void shutdownWrite(int fd) = 0;
  // Negotiated application protocol (ALPN); empty for raw TCP.
  virtual std::string_view protocol() const { return {}; }
};

// Plain TCP: readv/writev straight between the socket and buffer slices.
class RawTransport final : public TransportSocket {
 public:
  void onConnected(int) override {}
  IoResult doRead(int fd, Buffer& into, size_t max, bool drain) override;
  IoResult doWrite(int fd, Buffer& from) override;
  void shutdownWrite(int fd) override;
};

}  // namespace sluice::net
