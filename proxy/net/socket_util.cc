#include "proxy/net/socket_util.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::net {

int listenSocket(const ip::Address& address, bool reuse_port, std::string* error, int backlog) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  auto fail = [&](const char* what) {
    if (error) *error = std::string(what) + " " + address.str() + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return -1;
  };
  if (fd < 0) return fail("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) return fail("SO_REUSEPORT");
  // "[::]" is every address of both families (IPv4 peers arrive as
  // ::ffff:a.b.c.d), as Linux has it by default; said here so that a host or
  // pod whose net.ipv6.bindv6only is 1 does not make it IPv6 only.
  int zero = 0;
  if (address.family() == AF_INET6 && address.ip() == "::" &&
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0)
    return fail("IPV6_V6ONLY");
  if (::bind(fd, address.sockAddr(), address.sockLen()) != 0) return fail("bind");
  if (::listen(fd, backlog) != 0) return fail("listen");
  return fd;
}

ip::Address localAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace sluice::net
