// The file-based build: each path in the config is read into memory, then
// the context is built from the PEM text like any other material.
#include "proxy/tls/pem_file.h"
#include "proxy/tls/tls_context.h"

namespace sluice::tls {

BuildResult<ServerTlsContext> ServerTlsContext::build(const ServerTlsConfig& cfg,
                                                      std::shared_ptr<SessionTicketKeys> keys) {
  ServerTlsMaterial material;
  for (size_t i = 0; i < cfg.certificates.size(); ++i) {
    const std::string prefix = "certificates[" + std::to_string(i) + "].";
    material.certificates.push_back({readPemFile(prefix + "cert_chain_path", cfg.certificates[i].cert_chain_path),
                                     readPemFile(prefix + "private_key_path", cfg.certificates[i].private_key_path)});
  }
  if (!cfg.ca_bundle_path.empty()) material.trusted_ca = readPemFile("ca_bundle_path", cfg.ca_bundle_path);
  return build(static_cast<const ServerTlsOptions&>(cfg), material, std::move(keys));
}

BuildResult<ClientTlsContext> ClientTlsContext::build(const ClientTlsConfig& cfg) {
  if (cfg.cert_chain_path.empty() != cfg.private_key_path.empty()) {
    BuildResult<ClientTlsContext> r;
    r.error = "cert_chain_path and private_key_path go together";
    return r;
  }
  ClientTlsMaterial material;
  if (!cfg.cert_chain_path.empty())
    material.certificate = {readPemFile("cert_chain_path", cfg.cert_chain_path),
                            readPemFile("private_key_path", cfg.private_key_path)};
  if (!cfg.ca_bundle_path.empty()) material.trusted_ca = readPemFile("ca_bundle_path", cfg.ca_bundle_path);
  return build(static_cast<const ClientTlsOptions&>(cfg), material);
}

bool readCertificateInfo(const std::string& path, CertificateInfo& out, std::string& error) {
  return readCertificateInfo(readPemFile("cert_chain_path", path), out, error);
}

}  // namespace sluice::tls
