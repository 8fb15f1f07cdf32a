#pragma once
// A real net::Connection for filter tests, over one end of a socketpair,
// with a chosen peer address and, optionally, the TlsInfo a finished TLS
// handshake would have left (plain bytes underneath: no handshake runs).

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"

namespace sluice::authz::testing {

class FakeTlsTransport final : public net::TransportSocket {
 public:
  explicit FakeTlsTransport(std::optional<net::TlsInfo> info) : info_(std::move(info)) {}
  void onConnected(int fd) override { raw_.onConnected(fd); }
  net::IoResult doRead(int fd, net::Buffer& into, size_t max, bool drain) override {
    return raw_.doRead(fd, into, max, drain);
  }
  net::IoResult doWrite(int fd, net::Buffer& from) override { return raw_.doWrite(fd, from); }
  void shutdownWrite(int fd) override { raw_.shutdownWrite(fd); }
  const net::TlsInfo* tlsInfo() const override { return info_ ? &*info_ : nullptr; }

 private:
  net::RawTransport raw_;
  std::optional<net::TlsInfo> info_;
};

struct TestConnection {
  TestConnection(event::Loop& loop, const std::string& peer, std::optional<net::TlsInfo> tls = std::nullopt) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    other_fd = fds[1];
    conn = net::Connection::accepted(loop, fds[0], *ip::Address::parse(peer),
                                     std::make_unique<FakeTlsTransport>(std::move(tls)));
  }
  ~TestConnection() {
    conn.reset();
    ::close(other_fd);
  }
  std::unique_ptr<net::Connection> conn;
  int other_fd = -1;
};

inline net::TlsInfo verifiedPeer(const std::string& spiffe_id) {
  net::TlsInfo t;
  t.version = "TLSv1.3";
  t.peer_certificate_presented = true;
  t.peer_certificate_verified = true;
  t.peer_spiffe_id = spiffe_id;
  t.peer_uri_sans = {spiffe_id};
  return t;
}

}  // namespace sluice::authz::testing
