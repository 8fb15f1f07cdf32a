#pragma once
// TlsTransport: TLS over a connection's non-blocking fd, for both
// directions (server: terminates downstream TLS; client: originates it
// upstream). Implements net::TransportSocket's handshake contract: the
// Connection drives doHandshake() from its socket events until Done, then
// doRead/doWrite move application bytes through SSL_read/SSL_write.
//
// The SSL reads and writes the fd through our own small BIO (plain
// read/send syscalls, MSG_NOSIGNAL: no SIGPIPE), so nothing is buffered
// outside OpenSSL's record buffers. Owned by one Connection; loop thread
// only. It keeps its context alive, so a certificate reload never affects
// a connection that already started.

#include <openssl/types.h>

#include <memory>
#include <string>

#include "proxy/net/transport_socket.h"
#include "proxy/tls/tls_context.h"

namespace sluice::tls {

class TlsTransport final : public net::TransportSocket {
 public:
  // Downstream: the accepted side of a TLS connection.
  explicit TlsTransport(std::shared_ptr<const ServerTlsContext> ctx);
  // Upstream: `sni`, when not empty, replaces the context's server name;
  // `alpn` (wire format), when not empty, replaces the context's ALPN list
  // for this connection (a health check offers only the protocol it speaks).
  TlsTransport(std::shared_ptr<const ClientTlsContext> ctx, std::string sni, std::string alpn = {});
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  void onConnected(int fd) override;
  net::IoResult doRead(int fd, net::Buffer& into, size_t max, bool drain) override;
  net::IoResult doWrite(int fd, net::Buffer& from) override;
  // Sends close_notify, then the TCP FIN.
  void shutdownWrite(int fd) override;
  void onClosing(int fd) override;
  std::string_view protocol() const override { return info_.alpn; }

  bool hasHandshake() const override { return true; }
  net::HandshakeResult doHandshake(int fd) override;
  std::string_view failureReason() const override { return failure_; }
  const net::TlsInfo* tlsInfo() const override { return done_ ? &info_ : nullptr; }

 private:
  friend struct SocketBio;
  void fillInfo();
  std::string alpn_;
  // Records why the SSL failed (OpenSSL's error queue, verify result).
  void recordFailure(int ssl_error);

  std::shared_ptr<const ServerTlsContext> server_ctx_;
  std::shared_ptr<const ClientTlsContext> client_ctx_;
  std::string sni_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  int last_errno_ = 0;  // set by the BIO when the socket fails
  bool eof_ = false;    // the BIO read a TCP FIN
  bool read_short_ = false;  // the BIO's last socket read returned less than asked: the socket was empty
  bool done_ = false;
  bool failed_ = false;  // no more SSL calls but SSL_free
  bool shutdown_sent_ = false;
  std::string failure_;  // also written by the verify callback (SSL app data)
  net::TlsInfo info_;
};

}  // namespace sluice::tls
