#include "proxy/tls/peer_identity.h"

#include <openssl/x509v3.h>

namespace sluice::tls {

std::vector<std::string> uriSans(const X509* cert) {
  std::vector<std::string> out;
  if (cert == nullptr) return out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::optional<std::string> spiffeIdOf(const X509* cert) {
  const std::vector<std::string> uris = uriSans(cert);
  if (uris.size() != 1) return std::nullopt;
  // An embedded NUL would make the IA5String and its C view disagree.
  if (uris[0].find('\0') != std::string::npos) return std::nullopt;
  if (!identity::parseSpiffeId(uris[0])) return std::nullopt;
  return uris[0];
}

}  // namespace sluice::tls
