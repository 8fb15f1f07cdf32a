#pragma once
// Listeners both ways between the config model (ListenerConfig) and Envoy
// v3's Listener.
//
// Out: the single-chain form is one filter chain with no match; a
// PERMISSIVE TLS listener is two, {transport_protocol: tls} with the TLS
// transport socket and {transport_protocol: raw_buffer} without, behind a
// tls_inspector listener filter (which any chain matching on transport,
// server names or ALPN needs in Envoy). max_connections has no Envoy field
// and travels in io.sluice metadata.
//
// In: one chain without a match reads back as the single-chain form, the
// PERMISSIVE pair as PERMISSIVE, anything else as filter_chains. A Listener
// without an address (an api_listener, for proxyless gRPC clients) and
// listener features Sluice does not implement (listener filters other than
// tls_inspector, original destination, UDP, ...) are rejected.

#include <vector>

#include "config/model.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "xds/proto_values.h"

namespace sluice::xds {

namespace envoy_listener = envoy::config::listener::v3;

void listenerToEnvoy(const config::ListenerConfig& l, envoy_listener::Listener& out);
// Inline route tables of its HTTP filters are appended to `inline_routes`.
FieldError listenerFromEnvoy(const envoy_listener::Listener& in, config::ListenerConfig& out,
                             std::vector<config::RouteConfigEntry>& inline_routes);

}  // namespace sluice::xds
