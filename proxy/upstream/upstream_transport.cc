#include "proxy/upstream/upstream_transport.h"

#include <string>
#include <utility>

#include "proxy/tls/tls_transport.h"

namespace sluice::upstream {

std::unique_ptr<net::TransportSocket> makeUpstreamTransport(tls::CertificateProvider::View* tls, std::string alpn) {
  if (tls == nullptr) return std::make_unique<net::RawTransport>();
  // An empty SNI keeps the context's own (the cluster's `tls.sni`).
  return std::make_unique<tls::TlsTransport>(tls->client(), std::string(), std::move(alpn));
}

}  // namespace sluice::upstream
