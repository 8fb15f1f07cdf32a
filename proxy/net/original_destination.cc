#include "proxy/net/original_destination.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "proxy/net/socket_util.h"

// From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>,
// whose other declarations clash with the C library's.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

namespace sluice::net {
namespace {

std::optional<ip::Address> askConntrack(int fd, int family) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  // A dual-stack socket's IPv4 client is tracked as IPv4: ask that table too.
  if (family == AF_INET6 && ::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len) == 0)
    return ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  len = sizeof(ss);
  if (::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len) == 0)
    return ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return std::nullopt;  // not tracked (no netfilter), or not NATed
}

}  // namespace

AcceptedDestination acceptedDestination(int fd, bool ask_conntrack) {
  AcceptedDestination d;
  d.local = localAddress(fd);
  if (!ask_conntrack) return d;
  auto original = askConntrack(fd, d.local.family());
  // Conntrack also answers for a connection it tracked but did not
  // redirect: that one was addressed to us.
  if (original && !(*original == d.local)) d.original = std::move(original);
  return d;
}

}  // namespace sluice::net
