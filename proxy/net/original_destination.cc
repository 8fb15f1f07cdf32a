#include "proxy/net/original_destination.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "proxy/net/connection.h"
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

// The IPv4 address an IPv4-mapped IPv6 one ("[::ffff:10.1.2.3]:80", what a
// dual-stack socket reports for an IPv4 peer) stands for; others as they are.
ip::Address unmapped(const ip::Address& a) {
  if (a.family() != AF_INET6) return a;
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a.sockAddr());
  if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) return a;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = in6->sin6_port;
  std::memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], sizeof(in.sin_addr));
  return ip::Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof(in));
}

}  // namespace

AcceptedDestination acceptedDestination(int fd, bool ask_conntrack) {
  AcceptedDestination d;
  d.local = localAddress(fd);
  if (!ask_conntrack) return d;
  auto original = askConntrack(fd, d.local.family());
  // Conntrack also answers for a connection it tracked but did not
  // redirect: that one was addressed to us. A dual-stack socket's local
  // address for an IPv4 client is IPv4-mapped; conntrack's is plain IPv4.
  if (original && !(unmapped(*original) == unmapped(d.local))) d.original = std::move(original);
  return d;
}

std::optional<ip::Address> originalDstTarget(const Connection& downstream, const ip::Address* requested) {
  // An original destination is never the local address (acceptedDestination).
  if (requested == nullptr) return downstream.originalDestination();
  if (unmapped(*requested) == unmapped(downstream.localAddress())) return std::nullopt;
  return *requested;
}

}  // namespace sluice::net
