#pragma once
// Resolves the host of a "host:port" target on the loop, without blocking
// it and without a thread: c-ares, its sockets watched by the loop. It
// reads /etc/resolv.conf (nameservers, search domains, ndots: a
// Kubernetes service name such as `sluice.sluice-system.svc` resolves as
// in any pod) and /etc/hosts at each resolution, so nothing is cached here.
//
// The callback runs once, from a loop callback (never from inside
// resolveName()), and never after the NameResolution is destroyed, which
// cancels it. The first address returned is taken (IPv4 or IPv6).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ip/address.h"
#include "proxy/event/loop.h"

namespace sluice::grpc {

class NameResolution {
 public:
  virtual ~NameResolution() = default;
};

// `address` or, when it failed, `error` ("cannot resolve 'x.svc': Domain name not found").
using ResolveCallback = std::function<void(std::optional<ip::Address> address, std::string error)>;

std::unique_ptr<NameResolution> resolveName(event::Loop& loop, const std::string& host_port, ResolveCallback done);

}  // namespace sluice::grpc
