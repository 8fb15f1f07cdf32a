#pragma once
// The network authz filter's runtime half (its YAML and spec: config.h).
//
// NetworkAuthzConfig is what a snapshot holds: the enforcer built from a
// Spec, shared by every worker.
//
// Decided once, in onNewConnection: for a TLS listener the chain starts
// after the handshake, so the verified identity is known; on plaintext there
// is none. A refused connection is closed at once (nothing read, nothing
// sent, the terminal filter never runs) and counted.
//
// One filter per connection, on the worker that accepted it; the config is
// immutable and outlives it.

#include <memory>

#include "filters/network/authz/config.h"
#include "proxy/authz/enforcer.h"
#include "proxy/net/filter.h"

namespace sluice::filters::network_authz {

struct NetworkAuthzConfig final : net::NetworkFilterConfig {
  explicit NetworkAuthzConfig(const Spec& spec)
      : enforcer(spec.stat_prefix, spec.policy, sluice::authz::Layer::Network) {}
  const sluice::authz::Enforcer enforcer;
};

class NetworkAuthzFilter final : public net::NetworkFilter {
 public:
  NetworkAuthzFilter(const NetworkAuthzConfig& config, event::Loop& loop) : config_(config), loop_(loop) {}

  void initialize(net::ReadFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  net::FilterStatus onNewConnection() override;
  net::FilterStatus onData(net::Buffer&, bool) override { return net::FilterStatus::Continue; }

 private:
  const NetworkAuthzConfig& config_;
  event::Loop& loop_;
  net::ReadFilterCallbacks* callbacks_ = nullptr;
};

// Builds the runtime config from a Spec, and the filters.
const net::NetworkFilterFactory& factory();

}  // namespace sluice::filters::network_authz
