#pragma once
// TLS material as PEM text in memory: what contexts are built from, whoever
// fetched it (files today; SDS secrets pushed by a control plane next). The
// contexts never open files, so every source goes through one parser.

#include <optional>
#include <string>
#include <vector>

namespace sluice::tls {

struct Pem {
  std::string text;
  // Where the text came from, as /certs and the expiry gauges show it and
  // quoted in messages: a file's path ("/etc/tls/a.crt").
  std::string origin;
  // How errors name this piece of material, with the config field it fills:
  // "certificates[0].cert_chain_path '/etc/tls/a.crt'".
  std::string label;
  // Set when the text could not be had (an unreadable file, a secret not yet
  // received): building fails with "<label>: <unavailable>" at the point the
  // text is needed, so errors come in the same order for every source.
  std::string unavailable;
};

// A certificate chain (the leaf first, then intermediates) and its key.
struct CertificatePem {
  Pem cert_chain;
  Pem private_key;
};

struct ServerTlsMaterial {
  // At least one; see ServerTlsConfig::certificates for SNI selection.
  std::vector<CertificatePem> certificates;
  // Trust bundle for client certificates; absent: none are requested.
  std::optional<Pem> trusted_ca;
};

struct ClientTlsMaterial {
  std::optional<CertificatePem> certificate;  // mTLS upstream
  // Trust bundle for the server's chain; absent: the system store.
  std::optional<Pem> trusted_ca;
};

}  // namespace sluice::tls
