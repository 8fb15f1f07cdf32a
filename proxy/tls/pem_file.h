#pragma once
// Reading TLS material from a file into memory, labelled for errors the way
// file-based configs always named it: "<field> '<path>'".

#include <string>

#include "proxy/tls/tls_material.h"

namespace sluice::tls {

// `field` names the config field the path came from, with any prefix
// ("certificates[0].cert_chain_path"). Never fails: an unreadable file
// comes back with Pem::unavailable set ("cannot read: <why>").
Pem readPemFile(const std::string& field, const std::string& path);

}  // namespace sluice::tls
