// The file-based build: the config's files are read into memory by their
// sources, then the context is built from the PEM text like any other.
#include "proxy/tls/file_certificate_source.h"
#include "proxy/tls/pem_file.h"
#include "proxy/tls/tls_context.h"

namespace sluice::tls {

BuildResult<ServerTlsContext> ServerTlsContext::build(const ServerTlsConfig& cfg,
                                                      std::shared_ptr<SessionTicketKeys> keys) {
  return build(static_cast<const ServerTlsOptions&>(cfg), readMaterial(fileSources(cfg)), std::move(keys));
}

BuildResult<ClientTlsContext> ClientTlsContext::build(const ClientTlsConfig& cfg) {
  if (cfg.cert_chain_path.empty() != cfg.private_key_path.empty()) {
    BuildResult<ClientTlsContext> r;
    r.error = "cert_chain_path and private_key_path go together";
    return r;
  }
  return build(static_cast<const ClientTlsOptions&>(cfg), readMaterial(fileSources(cfg)));
}

bool readCertificateInfo(const std::string& path, CertificateInfo& out, std::string& error) {
  return readCertificateInfo(readPemFile("cert_chain_path", path), out, error);
}

}  // namespace sluice::tls
