#include "filters/network/authz/network_authz.h"

#include "config/yaml_reader.h"
#include "proxy/event/loop.h"
#include "proxy/net/connection.h"

namespace sluice::filters::network_authz {
namespace {

class Factory final : public legacy::NetworkFactory {
 public:
  std::string_view name() const override { return "authz"; }
  bool terminal() const override { return false; }
  std::shared_ptr<const net::NetworkFilterConfig> parse(config::MapReader& r) const override {
    return parseConfig(r);
  }
  void validate(const net::NetworkFilterConfig&, const config::Config&, std::string_view,
                config::ParseContext&) const override {}
  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& cfg,
                                                 net::FilterContext& ctx) const override {
    return std::make_unique<NetworkAuthzFilter>(static_cast<const NetworkAuthzConfig&>(cfg), ctx.loop);
  }
};

}  // namespace

std::shared_ptr<NetworkAuthzConfig> parseConfig(config::MapReader& r) {
  auto cfg = std::make_shared<NetworkAuthzConfig>();
  cfg->enforcer = sluice::authz::Enforcer::parse(r, sluice::authz::Layer::Network);
  return cfg;
}

net::FilterStatus NetworkAuthzFilter::onNewConnection() {
  net::Connection& conn = callbacks_->connection();
  const sluice::authz::Decision d =
      config_.enforcer.decide(sluice::authz::connectionFacts(conn.peerAddress(), conn.tlsInfo()), loop_.now());
  if (d.allowed) return net::FilterStatus::Continue;
  // Nothing was read or written yet: a plain close. The server sees the
  // connection closed and runs no later filter; the object itself is
  // deleted at the end of the loop turn.
  conn.close(net::CloseType::NoFlush);
  return net::FilterStatus::StopIteration;
}

const legacy::NetworkFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::network_authz
