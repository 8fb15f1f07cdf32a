#include "filters/http/router/router.h"
#include "filters/network/http/filter.h"
#include "proxy/http/connection_manager.h"

namespace sluice::filters::http_cm {
namespace {

std::vector<sluice::http::HttpFilterEntry> buildFilters(const Spec& spec) {
  std::vector<sluice::http::HttpFilterEntry> out;
  out.reserve(spec.http_filters.size() + 1);
  for (const auto& f : spec.http_filters) {
    // The reader found both halves by the same name; a registry without the
    // runtime half would be a build error, not a config one.
    const auto* factory = sluice::http::findHttpFilter(f.name);
    out.push_back({f.name, factory, factory->build(*f.spec)});
  }
  // The router ends every chain: an ordinary entry, so a stream builds its
  // filters from the list alone.
  out.push_back({"router", &router::factory(), router::defaultConfig()});
  return out;
}

std::vector<sluice::http::AccessLogConfig> buildAccessLogs(const Spec& spec) {
  std::vector<sluice::http::AccessLogConfig> out;
  for (const auto& a : spec.access_logs) {
    // The reader checked the format, so this compiles.
    out.push_back({a.path, a.format, sluice::http::AccessLogFormatter::create(a.format, nullptr)});
  }
  return out;
}

class Factory final : public net::NetworkFilterFactory {
 public:
  std::string_view name() const override { return "http"; }
  std::shared_ptr<const net::NetworkFilterConfig> build(const config::FilterSpec& spec) const override {
    return http_cm::build(static_cast<const Spec&>(spec));
  }
  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& cfg,
                                             net::FilterContext& ctx) const override {
    return std::make_unique<sluice::http::ConnectionManager>(static_cast<const HttpConfig&>(cfg), ctx);
  }
};

}  // namespace

std::shared_ptr<const HttpConfig> build(const Spec& spec) {
  auto cfg = std::make_shared<HttpConfig>();
  static_cast<config::HttpConnectionSettings&>(*cfg) = spec;
  cfg->limits.max_request_headers_bytes = spec.max_request_headers_bytes;
  cfg->limits.max_uri_bytes = spec.max_uri_bytes;
  cfg->limits.max_headers_count = spec.max_headers_count;
  cfg->limits.max_request_body_bytes = uint64_t{spec.max_request_body_mib} << 20;
  cfg->http_filters = buildFilters(spec);
  cfg->access_logs = buildAccessLogs(spec);
  return cfg;
}

const net::NetworkFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::http_cm
