#pragma once
// HTTPS on a gateway listener: the `tls:` block of mesh.gateways[].listeners[]
// (model.h's GatewayTls), in the words of an Istio Gateway server's tls.
//
//   tls:
//     mode: SIMPLE              # or MUTUAL: a client certificate is required
//     cert_file: edge.crt       # PEM chain, leaf first
//     key_file: edge.key        # PEM, unencrypted; must be the leaf's key
//     ca_file: clients.pem      # MUTUAL only (and required there)
//     alpn: [h2, http/1.1]      # the default: HTTP/2 and HTTP/1.1 clients alike
//     certificates:             # instead of cert_file/key_file: several, the
//       - {cert_file: a.crt, key_file: a.key}   # proxy picks by SNI from each
//       - {cert_file: b.crt, key_file: b.key}   # leaf's DNS names; [0] is the default
//
// sluice-control reads the files (relative paths from control.yaml's folder)
// each time it reads the mesh, and checks them then: readable, PEM, the key
// the certificate's, a CA that parses. The gateway gets their contents as
// inline SDS secrets (proxy_config.h names them), so the edge proxy reads no
// file and a changed file reaches it as a secret update, which swaps its TLS
// contexts without replacing the listener. The daemon watches the files
// (gatewayTlsFiles) as it watches control.yaml.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_reader.h"
#include "control/mesh/model.h"

namespace sluice::control::mesh {

// Reads `tls` of the listener mapping `listener` into `out` (left empty when
// absent); every problem is an error at its key, files included.
void readGatewayTls(config::MapReader& listener, std::optional<GatewayTls>& out);

// Every file the gateways' TLS blocks name, once each: what a reload of the
// mesh must notice besides control.yaml.
std::vector<std::string> gatewayTlsFiles(const Mesh& mesh);

// "SIMPLE" or "MUTUAL".
std::string_view gatewayTlsModeName(const GatewayTls& tls);

}  // namespace sluice::control::mesh
