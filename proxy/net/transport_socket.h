#pragma once
// TransportSocket: how a Connection moves bytes over its fd. Raw TCP, or TLS
// (proxy/tls/tls_transport.h) without the Connection or any filter changing.
// Called only on the connection's worker thread; owned by its Connection.
//
// Handshakes. A transport whose hasHandshake() is true (TLS) cannot carry
// application bytes right after onConnected(). The Connection then calls
// doHandshake() on every socket event (readable or writable) until it
// reports Done or Failed, and calls neither doRead, doWrite nor
// shutdownWrite before Done: bytes written meanwhile stay queued in the
// connection. After Done the Connection flushes what is queued and reads
// once (the peer's first bytes may already sit in the transport).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  // doRead: no more progress until the socket is writable (TLS must send a
  // post-handshake message first); the connection reads again on EPOLLOUT.
  bool needs_writable = false;
  // doWrite: no more progress until bytes arrive from the peer; the
  // connection flushes again after its next read.
  bool needs_readable = false;
};

struct HandshakeResult {
  enum class Status { InProgress, Done, Failed };
  Status status = Status::InProgress;
  // Failed: errno when the socket itself failed (ECONNRESET, EPIPE), 0 when
  // the handshake failed (bad certificate, protocol error, peer closed).
  int err = 0;
};

// What a secure transport learned in its handshake. Filled once, when the
// handshake is done, and unchanged for the connection's life.
struct TlsInfo {
  std::string sni;      // server: name the client asked for; client: name we sent
  std::string alpn;     // negotiated protocol; empty when none
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_128_GCM_SHA256"
  bool session_reused = false;
  bool peer_certificate_presented = false;
  // The chain verified against the trust bundle and every configured
  // name/identity check passed.
  bool peer_certificate_verified = false;
  std::vector<std::string> peer_uri_sans;
  // Set when the peer's certificate carries exactly one URI SAN and it is a
  // valid SPIFFE ID ("spiffe://trust-domain/path"); empty otherwise.
  std::string peer_spiffe_id;
  std::string peer_subject;  // one-line subject, for logs
  // Server side: the SPIFFE ID of the certificate we presented (x-forwarded-client-cert By=).
  std::string local_spiffe_id;
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
  // The connection is about to close the fd without a reset: a last,
  // best-effort, non-blocking goodbye (TLS close_notify). Not called when
  // closing with a reset or after a socket error.
  virtual void onClosing(int fd) {}
  // Negotiated application protocol (ALPN); empty for raw TCP.
  virtual std::string_view protocol() const { return {}; }

  // See the handshake contract above. Asked once, at connection creation.
  virtual bool hasHandshake() const { return false; }
  // Advances the handshake with whatever the socket allows now.
  virtual HandshakeResult doHandshake(int fd) { return {HandshakeResult::Status::Done, 0}; }
  // After a Failed handshake: why, for logs ("certificate verify failed: ...").
  virtual std::string_view failureReason() const { return {}; }
  // Null for raw TCP and before the handshake is done.
  virtual const TlsInfo* tlsInfo() const { return nullptr; }
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
