#pragma once
// Small socket helpers shared by listeners (data and admin).

#include <string>

#include "ip/address.h"

namespace sluice::net {

// A non-blocking, bound, listening TCP socket; -1 with *error set on failure
// ("bind 127.0.0.1:80: Address already in use"). `[::]` is dual-stack
// (IPV6_V6ONLY off: IPv4 clients arrive as ::ffff:a.b.c.d), and on a host
// without IPv6 it binds 0.0.0.0 instead (localAddress says which).
int listenSocket(const ip::Address& address, bool reuse_port, std::string* error, int backlog = 1024);
// The address a socket is bound to.
ip::Address localAddress(int fd);

}  // namespace sluice::net
