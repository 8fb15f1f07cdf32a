#include "proxy/net/socket_util.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::net {

namespace {

bool isV6Wildcard(const ip::Address& a) {
  return a.family() == AF_INET6 &&
         IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(a.sockAddr())->sin6_addr);
}

}  // namespace

int listenSocket(const ip::Address& requested, bool reuse_port, std::string* error, int backlog) {
  ip::Address address = requested;
  int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  // A kernel without IPv6 (ipv6.disable=1) has no [::]: the IPv4 wildcard
  // takes what [::] would have, so one config serves both kinds of host.
  if (fd < 0 && errno == EAFNOSUPPORT && isV6Wildcard(address)) {
    address = ip::Address::parse("0.0.0.0:0")->withPort(address.port());
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  auto fail = [&](const char* what) {
    if (error) *error = std::string(what) + " " + address.str() + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return -1;
  };
  if (fd < 0) return fail("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // [::] takes both families (an IPv4 client as ::ffff:a.b.c.d), whatever
  // the host's net.ipv6.bindv6only says: a captured pod's IPv4 and IPv6
  // connections reach the same listener.
  int zero = 0;
  if (isV6Wildcard(address) && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0)
    return fail("IPV6_V6ONLY");
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) return fail("SO_REUSEPORT");
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
