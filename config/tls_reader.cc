#include "config/tls_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "identity/spiffe_id.h"

namespace sluice::config {
namespace {

void readStringList(MapReader& r, std::string_view key, std::vector<std::string>& out) {
  if (!r.has(key)) return;
  out.clear();
  r.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      r.ctx().error(item, path, "expected a non-empty string");
      return;
    }
    out.push_back(item.Scalar());
  });
}

// A file the provider will read: it must exist now, or the config could
// never start.
void readPath(MapReader& r, std::string_view key, std::string& out, bool required) {
  r.string(key, out, required);
  if (out.empty()) {
    if (r.has(key)) r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
    return;
  }
  if (::access(out.c_str(), R_OK) != 0)
    r.ctx().error(r.locOf(key), r.childPath(key), "cannot read '" + out + "': " + std::strerror(errno));
}

void checkSpiffePatterns(MapReader& r, std::string_view key, const std::vector<std::string>& patterns) {
  for (size_t i = 0; i < patterns.size(); ++i) {
    std::string why;
    if (!identity::SpiffeIdMatcher::parse(patterns[i], &why))
      r.ctx().error(r.child(key)[i], r.childPath(key) + "[" + std::to_string(i) + "]",
                    "invalid SPIFFE ID pattern '" + patterns[i] + "': " + why);
  }
}

void checkAlpn(MapReader& r, std::string_view key, const std::vector<std::string>& alpn) {
  for (size_t i = 0; i < alpn.size(); ++i)
    if (alpn[i].size() > 255)
      r.ctx().error(r.child(key)[i], r.childPath(key) + "[" + std::to_string(i) + "]",
                    "ALPN protocol names are at most 255 bytes");
}

// A path inside a certificate's name, escaped so that the ',' between the
// two paths is the only bare one.
std::string escapePath(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Inline paths become secrets named after their files (see SecretSpec);
// the TLS block keeps the name. The loader keeps one secret per name.
std::string lift(ParseContext& ctx, SecretSpec secret) {
  ctx.inlineSecrets().push_back(secret);
  return secret.name;
}

std::string liftCertificate(ParseContext& ctx, const std::string& cert_chain, const std::string& private_key) {
  SecretSpec s;
  s.name = "cert:" + escapePath(cert_chain) + "," + escapePath(private_key);
  s.cert_chain = cert_chain;
  s.private_key = private_key;
  return lift(ctx, std::move(s));
}

std::string liftTrustedCa(ParseContext& ctx, const std::string& trusted_ca) {
  SecretSpec s;
  s.name = "ca:" + trusted_ca;
  s.kind = SecretSpec::Kind::ValidationContext;
  s.trusted_ca = trusted_ca;
  return lift(ctx, std::move(s));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A proxyless gRPC client takes its material from its bootstrap's provider
// instances only (it refuses SDS names beside them, and a cluster without its
// roots): what it would refuse is an error here, at the line.
void readProviderInstances(MapReader& r, UpstreamTlsConfig& t) {
  for (auto [key, out] : {std::pair{"ca_certificate_provider_instance", &t.ca_certificate_provider_instance},
                          std::pair{"certificate_provider_instance", &t.certificate_provider_instance}}) {
    r.string(key, *out);
    if (r.has(key) && out->empty()) r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
  }
  if (!t.usesCertificateProviders()) return;
  for (std::string_view secret : {"ca_bundle", "cert_chain", "certificate_secret"})
    if (r.has(secret))
      r.ctx().error(r.locOf(secret), r.childPath(secret),
                    "give either certificate provider instances (for proxyless gRPC clients) or secrets, not both");
  if (t.ca_certificate_provider_instance.empty())
    r.ctx().error(r.locOf("certificate_provider_instance"), r.childPath("certificate_provider_instance"),
                  "certificate_provider_instance needs ca_certificate_provider_instance: a gRPC client verifies the "
                  "server only against a provider's roots");
}

}  // namespace

void readDownstreamTls(MapReader& parent, std::string_view key, std::optional<DownstreamTlsConfig>& out,
                       bool allow_mode) {
  const YAML::Node node = parent.child(key);
  if (!node.IsDefined()) return;
  MapReader r(parent.ctx(), node, parent.childPath(key));
  if (!r.isMap()) {
    r.ctx().error(node, r.path(), "expected a mapping");
    return;
  }
  DownstreamTlsConfig t;
  t.loc = locOf(node);
  if (!r.has("certificates")) r.ctx().error(node, r.childPath("certificates"), "missing required field");
  r.forEachItem("certificates", [&](const YAML::Node& item, const std::string& path) {
    MapReader cr(r.ctx(), item, path);
    if (!cr.isMap()) {
      r.ctx().error(item, path, "expected a mapping with cert_chain and private_key, or secret");
      return;
    }
    // A secret by name (the certificate agent's `default`, say) instead of files.
    if (cr.has("secret")) {
      std::string name;
      cr.string("secret", name);
      if (name.empty()) r.ctx().error(cr.locOf("secret"), cr.childPath("secret"), "must not be empty");
      if (cr.has("cert_chain") || cr.has("private_key")) {
        cr.child("cert_chain");  // reported here, not as unknown fields
        cr.child("private_key");
        r.ctx().error(item, path, "give either secret or cert_chain and private_key");
      }
      cr.finish();
      t.certificates.push_back(name);
      return;
    }
    std::string cert_chain, private_key;
    readPath(cr, "cert_chain", cert_chain, /*required=*/true);
    readPath(cr, "private_key", private_key, /*required=*/true);
    cr.finish();
    t.certificates.push_back(liftCertificate(r.ctx(), cert_chain, private_key));
  });
  if (r.has("certificates") && r.child("certificates").IsSequence() && r.child("certificates").size() == 0)
    r.ctx().error(r.child("certificates"), r.childPath("certificates"), "needs at least one certificate");
  std::string ca;
  readPath(r, "ca_bundle", ca, /*required=*/false);
  if (!ca.empty()) t.validation_context = liftTrustedCa(r.ctx(), ca);
  r.boolean("require_client_cert", t.require_client_cert);
  if (t.require_client_cert && !r.has("ca_bundle"))
    r.ctx().error(r.locOf("require_client_cert"), r.childPath("require_client_cert"),
                  "require_client_cert needs a ca_bundle to verify client certificates against");
  readStringList(r, "verify_spiffe_ids", t.verify_spiffe_ids);
  checkSpiffePatterns(r, "verify_spiffe_ids", t.verify_spiffe_ids);
  if (!t.verify_spiffe_ids.empty() && !r.has("ca_bundle"))
    r.ctx().error(r.locOf("verify_spiffe_ids"), r.childPath("verify_spiffe_ids"),
                  "verify_spiffe_ids needs a ca_bundle (client certificates are only requested with one)");
  t.alpn_from_filter = !r.has("alpn");
  readStringList(r, "alpn", t.alpn);
  checkAlpn(r, "alpn", t.alpn);
  r.duration("handshake_timeout", t.handshake_timeout);
  if (t.handshake_timeout <= Duration::zero())
    r.ctx().error(r.locOf("handshake_timeout"), r.childPath("handshake_timeout"), "must be greater than 0");
  r.boolean("session_tickets", t.session_tickets);
  if (allow_mode) {
    std::string mode;
    r.string("mode", mode);
    if (mode == "permissive") t.mode = DownstreamTlsConfig::Mode::Permissive;
    else if (!mode.empty() && mode != "strict")
      r.ctx().error(r.locOf("mode"), r.childPath("mode"), "expected strict or permissive");
  } else if (r.has("mode")) {
    r.child("mode");
    r.ctx().error(r.locOf("mode"), r.childPath("mode"),
                  "mode is for a listener's tls; in filter_chains add a chain with match: {transport_protocol: "
                  "raw_buffer} for plaintext");
  }
  r.finish();
  out = std::move(t);
}

void readFilterChainMatch(MapReader& parent, std::string_view key, FilterChainMatch& out) {
  const YAML::Node node = parent.child(key);
  if (!node.IsDefined()) return;
  MapReader r(parent.ctx(), node, parent.childPath(key));
  if (!r.isMap()) {
    r.ctx().error(node, r.path(), "expected a mapping");
    return;
  }
  if (r.has("destination_port")) {
    uint32_t port = 0;
    r.uint32("destination_port", port, 1, 65535);
    if (port != 0) out.destination_port = static_cast<uint16_t>(port);
  }
  std::vector<std::string> prefixes;
  readStringList(r, "prefix_ranges", prefixes);
  for (size_t i = 0; i < prefixes.size(); ++i) {
    std::string why;
    if (auto c = ip::Cidr::parse(prefixes[i], &why)) {
      out.prefix_ranges.push_back(*c);
    } else {
      r.ctx().error(r.child("prefix_ranges")[i], r.childPath("prefix_ranges") + "[" + std::to_string(i) + "]",
                    "'" + prefixes[i] + "': " + why);
    }
  }
  readStringList(r, "server_names", out.server_names);
  for (size_t i = 0; i < out.server_names.size(); ++i) {
    std::string& n = out.server_names[i];
    n = lower(n);
    const std::string_view rest = n.rfind("*.", 0) == 0 ? std::string_view(n).substr(2) : std::string_view(n);
    const bool ok = !rest.empty() && std::all_of(rest.begin(), rest.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '.';
    });
    if (!ok)
      r.ctx().error(r.child("server_names")[i], r.childPath("server_names") + "[" + std::to_string(i) + "]",
                    "expected a DNS name or *.domain");
  }
  std::string transport;
  r.string("transport_protocol", transport);
  if (transport == "tls") out.transport_protocol = FilterChainMatch::Transport::Tls;
  else if (transport == "raw_buffer") out.transport_protocol = FilterChainMatch::Transport::RawBuffer;
  else if (!transport.empty())
    r.ctx().error(r.locOf("transport_protocol"), r.childPath("transport_protocol"), "expected tls or raw_buffer");
  readStringList(r, "application_protocols", out.application_protocols);
  r.finish();
}

void readUpstreamTls(MapReader& parent, std::string_view key, std::optional<UpstreamTlsConfig>& out) {
  const YAML::Node node = parent.child(key);
  if (!node.IsDefined()) return;
  MapReader r(parent.ctx(), node, parent.childPath(key));
  if (!r.isMap()) {
    r.ctx().error(node, r.path(), "expected a mapping");
    return;
  }
  UpstreamTlsConfig t;
  t.loc = locOf(node);
  r.string("sni", t.sni);
  std::string ca, cert_chain, private_key;
  readPath(r, "ca_bundle", ca, /*required=*/false);
  readPath(r, "cert_chain", cert_chain, /*required=*/false);
  readPath(r, "private_key", private_key, /*required=*/false);
  if (r.has("cert_chain") != r.has("private_key"))
    r.ctx().error(node, r.path(), "cert_chain and private_key go together");
  // The client certificate as a secret by name (the certificate agent's).
  r.string("certificate_secret", t.certificate);
  if (r.has("certificate_secret") && t.certificate.empty())
    r.ctx().error(r.locOf("certificate_secret"), r.childPath("certificate_secret"), "must not be empty");
  if (r.has("certificate_secret") && r.has("cert_chain"))
    r.ctx().error(r.locOf("certificate_secret"), r.childPath("certificate_secret"),
                  "give either certificate_secret or cert_chain and private_key");
  if (!ca.empty()) t.validation_context = liftTrustedCa(r.ctx(), ca);
  if (!cert_chain.empty() && !private_key.empty())
    t.certificate = liftCertificate(r.ctx(), cert_chain, private_key);
  readProviderInstances(r, t);
  readStringList(r, "verify_subject_alt_names", t.verify_subject_alt_names);
  readStringList(r, "verify_spiffe_ids", t.verify_spiffe_ids);
  checkSpiffePatterns(r, "verify_spiffe_ids", t.verify_spiffe_ids);
  readStringList(r, "alpn", t.alpn);
  checkAlpn(r, "alpn", t.alpn);
  r.finish();
  out = std::move(t);
}

}  // namespace sluice::config
