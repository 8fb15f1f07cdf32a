#pragma once
// Resolves the host of a "host:port" target on the loop, without blocking
// it and without a thread: c-ares, its sockets watched by the loop. It
// reads /etc/resolv.conf (nameservers, search domains, ndots: a
// Kubernetes service name such as `sluice.sluice-system.svc` resolves as
// in any pod) and /etc/hosts at each resolution, so nothing is cached here.
//
// The callback runs once, from a loop callback (never from inside
// resolveName()), and never after the NameResolution is destroyed, which
// cancels it. Every address of the name comes back, in the resolver's
// order (IPv6 first where the host prefers it): the caller tries them in
// turn, as gRPC does, since `localhost` may list ::1 while a server listens
// on 127.0.0.1 only. A resolution that takes longer than c-ares' own bound
// (2 s a try, 2 tries a server) fails.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ip/address.h"
#include "proxy/event/loop.h"

namespace sluice::grpc {

class NameResolution {
 public:
  virtual ~NameResolution() = default;
};

// The addresses (at least one) or, when it failed, none and `error`
// ("cannot resolve 'x.svc': Domain name not found").
using ResolveCallback = std::function<void(std::vector<ip::Address> addresses, std::string error)>;

// "host:port", "[v6]:port" -> host (without brackets) and port.
std::pair<std::string, std::string> splitHostPort(const std::string& host_port);

std::unique_ptr<NameResolution> resolveName(event::Loop& loop, const std::string& host_port, ResolveCallback done);

}  // namespace sluice::grpc
