#pragma once
// authz (L4): a non-terminal network filter that allows or refuses each new
// connection by its peer: verified SPIFFE ID, source IP, or any verified
// certificate (policy shape: proxy/authz/policy_parser.h). Placed before the
// terminal filter:
//
//   listeners:
//     - name: inbound
//       address: 0.0.0.0:15006
//       authz:
//         stat_prefix: inbound      # required; label on the metrics
//         default_action: deny
//         rules:
//           - {name: mesh, action: allow, principals: [{spiffe_id: {prefix: "spiffe://td/ns/prod/"}}]}
//           - {name: ops, action: allow, principals: [{source_ip: 10.1.0.0/16}]}
//       tcp_proxy: {cluster: app}
//
// methods/paths/headers are config errors here: a connection carries no
// request (use the HTTP authz filter for those).
//
// Decided once, in onNewConnection: for a TLS listener the chain starts
// after the handshake, so the verified identity is known; on plaintext there
// is none. A refused connection is closed at once (nothing read, nothing
// sent, the terminal filter never runs) and counted.
//
// One filter per connection, on the worker that accepted it; the config is
// immutable and outlives it.

#include <memory>

#include "proxy/authz/enforcer.h"
#include "proxy/net/filter.h"
#include "filters/legacy.h"

namespace sluice::filters::network_authz {

struct NetworkAuthzConfig final : net::NetworkFilterConfig {
  sluice::authz::Enforcer enforcer;
  nlohmann::json toJson() const override { return enforcer.toJson(); }
};

// Parses the filter's mapping (calls r.finish()); errors go to r.ctx().
std::shared_ptr<NetworkAuthzConfig> parseConfig(config::MapReader& r);

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

const legacy::NetworkFactory& factory();

}  // namespace sluice::filters::network_authz
