#pragma once
// Peer identity from a verified X.509 certificate: its URI SANs and the
// SPIFFE ID they carry (identity/spiffe_id.h has the ID rules and matchers).
// Pure functions: any thread.

#include <openssl/types.h>

#include <optional>
#include <string>
#include <vector>

#include "identity/spiffe_id.h"

namespace sluice::tls {

// Every URI SAN of the certificate, in certificate order.
std::vector<std::string> uriSans(const X509* cert);

// The certificate's SPIFFE ID: set only when it has exactly one URI SAN and
// that is a valid workload SPIFFE ID (an X509-SVID has exactly one).
std::optional<std::string> spiffeIdOf(const X509* cert);

}  // namespace sluice::tls
