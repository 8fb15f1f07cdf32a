#include "control/mesh/gateway_tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "config/field_reader.h"
#include "control/ca/x509_util.h"

namespace sluice::control::mesh {
namespace {

using config::MapReader;

std::string resolved(const std::string& config_file, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  const size_t slash = config_file.rfind('/');
  return slash == std::string::npos ? path : config_file.substr(0, slash + 1) + path;
}

// The file named under `key`, read whole; false (with an error at the key)
// when it is not named or cannot be read.
bool readNamedFile(MapReader& r, std::string_view key, std::string& path, std::string& text) {
  std::string named;
  r.string(key, named, /*required=*/true);
  if (!r.has(key) || !r.child(key).IsScalar()) return false;
  if (named.empty()) {
    r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
    return false;
  }
  path = resolved(r.ctx().file(), named);
  std::string why;
  if (!ca::readWholeFile(path, text, why)) {
    r.ctx().error(r.locOf(key), r.childPath(key), "'" + path + "': " + why);
    return false;
  }
  return true;
}

std::string subjectOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return out;
}

std::vector<std::string> dnsNamesOf(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = n->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string utcText(ca::SysTime t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// cert_file and key_file of the mapping `r`: read, parsed and matched.
void readCertificate(MapReader& r, std::vector<GatewayCertificate>& out) {
  GatewayCertificate c;
  c.loc = config::locOf(r.node());
  const bool have_cert = readNamedFile(r, "cert_file", c.cert_file, c.cert_pem);
  const bool have_key = readNamedFile(r, "key_file", c.key_file, c.key_pem);
  if (!have_cert || !have_key) return;
  const auto certs = ca::certsFromPem(c.cert_pem);
  if (certs.empty()) {
    r.ctx().error(r.locOf("cert_file"), r.childPath("cert_file"), "'" + c.cert_file + "' holds no PEM certificate");
    return;
  }
  const ca::PkeyPtr key = ca::keyFromPem(c.key_pem);
  if (!key) {
    ERR_clear_error();
    r.ctx().error(r.locOf("key_file"), r.childPath("key_file"),
                  "'" + c.key_file + "' holds no unencrypted PEM private key");
    return;
  }
  if (X509_check_private_key(certs[0].get(), key.get()) != 1) {
    ERR_clear_error();
    r.ctx().error(r.locOf("key_file"), r.childPath("key_file"),
                  "'" + c.key_file + "' is not the key of the certificate in '" + c.cert_file + "'");
    return;
  }
  c.subject = subjectOf(certs[0].get());
  c.dns_names = dnsNamesOf(certs[0].get());
  c.not_after = utcText(ca::notAfter(certs[0].get()));
  out.push_back(std::move(c));
}

void readAlpn(MapReader& r, std::vector<std::string>& out) {
  if (!r.has("alpn")) return;
  out.clear();
  for (auto& a : config::readStrings(r, "alpn")) {
    if (a.value.empty() || a.value.size() > 255)
      r.ctx().error(a.node, a.path, "ALPN protocol names are 1 to 255 bytes");
    else
      out.push_back(std::move(a.value));
  }
  if (out.empty() && r.child("alpn").IsSequence())
    r.ctx().error(r.locOf("alpn"), r.childPath("alpn"), "needs at least one protocol (leave it out for h2, http/1.1)");
}

}  // namespace

void readGatewayTls(MapReader& listener, std::optional<GatewayTls>& out) {
  if (!listener.has("tls")) return;
  const YAML::Node node = listener.child("tls");
  MapReader r(listener.ctx(), node, listener.childPath("tls"));
  if (!r.isMap()) {
    r.ctx().error(node, r.path(), "expected a mapping");
    return;
  }
  GatewayTls t;
  t.loc = config::locOf(node);
  std::string mode = "SIMPLE";
  r.string("mode", mode);
  if (mode == "MUTUAL")
    t.mutual = true;
  else if (mode != "SIMPLE")
    r.ctx().error(r.locOf("mode"), r.childPath("mode"), "must be SIMPLE or MUTUAL");

  if (r.has("certificates")) {
    if (r.has("cert_file") || r.has("key_file")) {
      const std::string_view extra = r.has("cert_file") ? "cert_file" : "key_file";
      r.child("cert_file");  // reported here, not as unknown fields
      r.child("key_file");
      r.ctx().error(r.locOf(extra), r.childPath(extra), "give either cert_file and key_file, or certificates");
    }
    config::checkListNotEmpty(r, "certificates");
    r.forEachItem("certificates", [&](const YAML::Node& item, const std::string& path) {
      MapReader cr(r.ctx(), item, path);
      if (!cr.isMap()) {
        r.ctx().error(item, path, "expected a mapping with cert_file and key_file");
        return;
      }
      const size_t before = t.certificates.size();
      readCertificate(cr, t.certificates);
      cr.finish();
      // Past the first, a certificate is chosen only by a client's SNI
      // matching one of its leaf's DNS names.
      if (before > 0 && t.certificates.size() > before && t.certificates.back().dns_names.empty())
        r.ctx().error(item, path,
                      "its certificate has no DNS name, so no client's SNI could choose it (only certificates[0] "
                      "serves without one)");
    });
  } else {
    readCertificate(r, t.certificates);
  }

  if (t.mutual) {
    if (!r.has("ca_file"))
      r.ctx().error(r.locOf("mode"), r.childPath("ca_file"),
                    "missing: mode MUTUAL needs ca_file to verify client certificates against");
    else if (readNamedFile(r, "ca_file", t.ca_file, t.ca_pem) && ca::certsFromPem(t.ca_pem).empty())
      r.ctx().error(r.locOf("ca_file"), r.childPath("ca_file"), "'" + t.ca_file + "' holds no PEM certificate");
  } else if (r.has("ca_file")) {
    r.child("ca_file");
    r.ctx().error(r.locOf("ca_file"), r.childPath("ca_file"),
                  "ca_file is for mode MUTUAL (SIMPLE asks no client certificate)");
  }
  readAlpn(r, t.alpn);
  r.finish();
  out = std::move(t);
}

std::vector<std::string> gatewayTlsFiles(const Mesh& mesh) {
  std::vector<std::string> files;
  auto add = [&](const std::string& f) {
    if (!f.empty() && std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  };
  for (const auto& g : mesh.gateways)
    for (const auto& l : g.listeners) {
      if (!l.tls) continue;
      for (const auto& c : l.tls->certificates) {
        add(c.cert_file);
        add(c.key_file);
      }
      add(l.tls->ca_file);
    }
  return files;
}

std::string_view gatewayTlsModeName(const GatewayTls& tls) { return tls.mutual ? "MUTUAL" : "SIMPLE"; }

}  // namespace sluice::control::mesh
