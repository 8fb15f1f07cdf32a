#pragma once
// A fresh P-256 key and a PEM certificate request signed by it, as a
// sidecar's certificate agent makes before it calls the mesh CA
// (sluice-ads-load's new-workload measurement). The key is dropped: the
// benchmark only times the CA's answer.

#include <string>

namespace sluice::tools {

// The PEM CSR; empty (with `error` set) when OpenSSL fails.
std::string makeP256Csr(const std::string& common_name, std::string& error);

}  // namespace sluice::tools
