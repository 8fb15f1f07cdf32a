#include "filters/http/authz/authz.h"

#include "config/yaml_reader.h"
#include "proxy/event/loop.h"
#include "proxy/net/connection.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::authz {

using sluice::http::FilterHeadersStatus;

namespace {

constexpr std::string_view kName = "authz";

class Factory final : public legacy::HttpFactory {
 public:
  std::string_view name() const override { return kName; }
  std::shared_ptr<const sluice::http::HttpFilterConfig> parse(config::MapReader& r) const override {
    auto cfg = std::make_shared<AuthzConfig>();
    cfg->enforcer = sluice::authz::Enforcer::parse(r, sluice::authz::Layer::Http);
    return cfg;
  }
  void createFilters(const sluice::http::HttpFilterConfig& cfg,
                     sluice::http::FilterChainBuilder& chain) const override {
    chain.addDecoderFilter(util::makePooledShared<AuthzFilter>(static_cast<const AuthzConfig&>(cfg)));
  }
};

}  // namespace

FilterHeadersStatus AuthzFilter::decodeHeaders(sluice::http::HeaderMap& headers, bool) {
  // A per-route entry under our name was parsed by this factory: an AuthzConfig.
  const auto* route_cfg = static_cast<const AuthzConfig*>(decoder_callbacks_->perFilterConfig(kName));
  const AuthzConfig& cfg = route_cfg != nullptr ? *route_cfg : config_;
  const net::Connection& conn = decoder_callbacks_->downstreamConnection();
  sluice::authz::RequestFacts facts = sluice::authz::connectionFacts(conn.peerAddress(), conn.tlsInfo());
  facts.request = &headers;
  if (cfg.enforcer.decide(facts, decoder_callbacks_->loop().now()).allowed) return FilterHeadersStatus::Continue;
  decoder_callbacks_->sendLocalReply(403, "RBAC: access denied\n", sluice::http::ResponseFlag::AuthzDenied,
                                     "authz_denied");
  return FilterHeadersStatus::StopIteration;
}

const legacy::HttpFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::authz
