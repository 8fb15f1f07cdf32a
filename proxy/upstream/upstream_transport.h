#pragma once
// The transport of every outbound connection to a cluster's host: pooled
// HTTP connections, tcp_proxy upstreams and active health checks alike, so
// all of them present the same client certificate and verify the upstream
// the same way (the context's SNI, SAN and SPIFFE checks).

#include <memory>
#include <string>

#include "proxy/net/transport_socket.h"
#include "proxy/tls/certificate_provider.h"

namespace sluice::upstream {

// TLS from `tls` (the calling thread's view of the cluster's certificate
// provider) when not null, else raw TCP. Called on the thread that owns the
// view; the transport keeps the context it was made with. `alpn` (wire
// format), when not empty, replaces the context's ALPN list.
std::unique_ptr<net::TransportSocket> makeUpstreamTransport(tls::CertificateProvider::View* tls,
                                                            std::string alpn = {});

}  // namespace sluice::upstream
