#pragma once
// `forward_client_cert_details` of an `http` listener: what the upstream
// learns about the downstream's client certificate through
// x-forwarded-client-cert (XFCC). A setting, so it lives with the config;
// the proxy applies it (proxy/http/request_metadata.h). "Ours" is the
// element the proxy writes for a verified client certificate.

#include <optional>
#include <string_view>

namespace sluice::config {

enum class ForwardClientCert {
  Sanitize,       // default: drop any XFCC the client sent; add nothing
  ForwardOnly,    // pass the client's XFCC unchanged; add nothing
  AppendForward,  // keep the client's XFCC and append ours
  SanitizeSet,    // drop the client's XFCC, then set ours
};
std::optional<ForwardClientCert> parseForwardClientCert(std::string_view name);
std::string_view forwardClientCertName(ForwardClientCert mode);

}  // namespace sluice::config
