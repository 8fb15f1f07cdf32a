#pragma once
// http: the terminal network filter that speaks HTTP/1.1 to the downstream,
// runs each request through the HTTP filter chain and routes it. The engine
// (connection manager, streams) lives in proxy/http/; this folder holds only
// its YAML glue: the config as a network filter, and the factory.

#include "proxy/http/connection_manager_config.h"
#include "proxy/net/filter.h"
#include "filters/legacy.h"

namespace sluice::filters::http_cm {

using sluice::http::AccessLogConfig;
using sluice::http::ForwardClientCert;
using sluice::http::HttpFilterEntry;

// The engine's settings (fields documented in connection_manager_config.h),
// as the config of one listener's `http` filter.
struct HttpConfig final : net::NetworkFilterConfig, sluice::http::ConnectionManagerConfig {
  nlohmann::json toJson() const override;
};

const legacy::NetworkFactory& factory();

}  // namespace sluice::filters::http_cm
