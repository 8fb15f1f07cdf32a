#pragma once
// The runtime half of the `http` filter: its runtime config is the
// connection manager's (proxy/http/connection_manager_config.h), built
// from the Spec when a snapshot is built, and its filter is a
// ConnectionManager per connection.

#include "filters/network/http/config.h"
#include "proxy/http/connection_manager_config.h"
#include "proxy/net/filter.h"

namespace sluice::filters::http_cm {

struct HttpConfig final : net::NetworkFilterConfig, sluice::http::ConnectionManagerConfig {};

// Builds an HttpConfig from a Spec: each HTTP filter built by its factory,
// the router appended, access log formats compiled.
std::shared_ptr<const HttpConfig> build(const Spec& spec);

const net::NetworkFilterFactory& factory();

}  // namespace sluice::filters::http_cm
