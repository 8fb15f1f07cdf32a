#include "proxy/tls/file_certificate_source.h"

#include <sys/stat.h>

#include "proxy/tls/pem_file.h"

namespace sluice::tls {

std::shared_ptr<FileCertificateSource> FileCertificateSource::certificate(std::string field_prefix,
                                                                          std::string cert_chain_path,
                                                                          std::string private_key_path) {
  return std::shared_ptr<FileCertificateSource>(new FileCertificateSource(
      {{field_prefix + "cert_chain_path", std::move(cert_chain_path)},
       {field_prefix + "private_key_path", std::move(private_key_path)}}));
}

std::shared_ptr<FileCertificateSource> FileCertificateSource::trustedCa(std::string ca_bundle_path) {
  return std::shared_ptr<FileCertificateSource>(
      new FileCertificateSource({{"ca_bundle_path", std::move(ca_bundle_path)}}));
}

std::string FileCertificateSource::describe() const {
  std::string out;
  for (const auto& f : files_) out += (out.empty() ? "" : ", ") + f.field + " '" + f.path + "'";
  return out;
}

bool FileCertificateSource::changed() const { return stampFiles() != stamps_; }

SourceMaterial FileCertificateSource::read() {
  // Stamped before reading: a write landing between the two shows up as a
  // change at the next check rather than being missed.
  stamps_ = stampFiles();
  SourceMaterial m;
  if (files_.size() == 2) {
    m.certificate = CertificatePem{readPemFile(files_[0].field, files_[0].path),
                                   readPemFile(files_[1].field, files_[1].path)};
  } else {
    m.trusted_ca = readPemFile(files_[0].field, files_[0].path);
  }
  return m;
}

std::vector<FileCertificateSource::Stamp> FileCertificateSource::stampFiles() const {
  std::vector<Stamp> out;
  for (const auto& f : files_) {
    Stamp s;
    struct stat st {};
    // stat follows symlinks: a Kubernetes secret volume swaps a symlink to a
    // new directory, which shows up as a new inode here.
    if (::stat(f.path.c_str(), &st) == 0) {
      s.exists = true;
      s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      s.size = st.st_size;
      s.inode = st.st_ino;
    }
    out.push_back(s);
  }
  return out;
}

ServerCertificateSources fileSources(const ServerTlsConfig& config) {
  ServerCertificateSources s;
  for (size_t i = 0; i < config.certificates.size(); ++i) {
    s.certificates.push_back(FileCertificateSource::certificate("certificates[" + std::to_string(i) + "].",
                                                                config.certificates[i].cert_chain_path,
                                                                config.certificates[i].private_key_path));
  }
  if (!config.ca_bundle_path.empty()) s.trusted_ca = FileCertificateSource::trustedCa(config.ca_bundle_path);
  return s;
}

ClientCertificateSources fileSources(const ClientTlsConfig& config) {
  ClientCertificateSources s;
  if (!config.cert_chain_path.empty() || !config.private_key_path.empty())
    s.certificate = FileCertificateSource::certificate("", config.cert_chain_path, config.private_key_path);
  if (!config.ca_bundle_path.empty()) s.trusted_ca = FileCertificateSource::trustedCa(config.ca_bundle_path);
  return s;
}

}  // namespace sluice::tls
