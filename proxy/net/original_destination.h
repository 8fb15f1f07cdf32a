#pragma once
// Where an accepted client was going before NAT redirected it to us
// (`sluice iptables`' REDIRECT rules): SO_ORIGINAL_DST for IPv4,
// IP6T_SO_ORIGINAL_DST for IPv6, asked of conntrack once per accepted
// connection by a use_original_dst listener, never on established traffic.

#include <optional>

#include "ip/address.h"

namespace sluice::net {

struct AcceptedDestination {
  ip::Address local;  // the accepted socket's own address (the listener's, after a redirect)
  // Where the client was going, when that is not `local`: a redirected
  // connection. Unset for one addressed to the listener itself.
  std::optional<ip::Address> original;
  // What filter chains match: `original` when set, else `local`.
  const ip::Address& destination() const { return original ? *original : local; }
};

// `ask_conntrack`: read the original destination (use_original_dst);
// otherwise only the local address.
AcceptedDestination acceptedDestination(int fd, bool ask_conntrack);

class Connection;

// Where an original_dst cluster connects for `downstream`: `requested` when
// given (an address its cluster lets the request name), else where the
// client was going. Nullopt when that is this proxy's own socket: a client
// addressed to the listener itself (not redirected: no original
// destination), or a requested address naming the one the connection
// arrived on (an IPv4-mapped address is the IPv4 one). Connecting there
// would come back to the listener, once per connection, until descriptors
// run out.
std::optional<ip::Address> originalDstTarget(const Connection& downstream, const ip::Address* requested = nullptr);

}  // namespace sluice::net
