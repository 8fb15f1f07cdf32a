#pragma once
// The mesh roots a proxy's certificate agent verifies the CA's gRPC port
// with. The bootstrap gives them in `dynamic.ca`: root_pem (this secret
// holds the PEM inline) or root_file (the secret names the file, checked
// when the bootstrap is read and read again at every call, so that a root
// rotation written there is followed); TLS material like any other. A
// bootstrap with `dynamic.ca` and without this secret said
// `plaintext: true` (the loader refuses one that says neither).

namespace sluice::config {

inline constexpr const char* kCaRootSecretName = "sluice-ca-root";

}  // namespace sluice::config
