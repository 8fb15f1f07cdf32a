#include "config/forward_client_cert.h"

namespace sluice::config {

std::optional<ForwardClientCert> parseForwardClientCert(std::string_view name) {
  if (name == "sanitize") return ForwardClientCert::Sanitize;
  if (name == "forward_only") return ForwardClientCert::ForwardOnly;
  if (name == "append_forward") return ForwardClientCert::AppendForward;
  if (name == "sanitize_set") return ForwardClientCert::SanitizeSet;
  return std::nullopt;
}

std::string_view forwardClientCertName(ForwardClientCert mode) {
  switch (mode) {
    case ForwardClientCert::Sanitize: return "sanitize";
    case ForwardClientCert::ForwardOnly: return "forward_only";
    case ForwardClientCert::AppendForward: return "append_forward";
    case ForwardClientCert::SanitizeSet: return "sanitize_set";
  }
  return "sanitize";
}

}  // namespace sluice::config
