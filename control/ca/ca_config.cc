#include "control/ca/ca_config.h"

#include <arpa/inet.h>

#include "identity/spiffe_id.h"

namespace sluice::control::ca {
namespace {

using config::MapReader;

// "deploy/control.yaml" -> "deploy/"; "control.yaml" -> "".
std::string folderOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash + 1);
}

std::string resolved(const std::string& base, const std::string& path) {
  return path.empty() || path.front() == '/' ? path : base + path;
}

bool readFile(MapReader& r, std::string_view key, FileRef& out, bool required) {
  if (!r.has(key)) {
    if (required) r.ctx().error(r.node(), r.childPath(key), "missing required field");
    r.child(key);
    return false;
  }
  std::string path;
  r.string(key, path);
  if (!r.child(key).IsScalar()) return false;
  if (path.empty()) {
    r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
    return false;
  }
  out = FileRef{resolved(folderOf(r.ctx().file()), path), r.locOf(key)};
  return true;
}

std::optional<CertKeyFiles> readPair(MapReader& ca, std::string_view key, bool key_required) {
  const YAML::Node n = ca.child(key);
  if (!n.IsDefined()) return std::nullopt;
  MapReader r(ca.ctx(), n, ca.childPath(key));
  if (!r.isMap()) return std::nullopt;
  CertKeyFiles files;
  readFile(r, "cert", files.cert, true);
  readFile(r, "key", files.key, key_required);
  r.finish();
  return files;
}

void readFileList(MapReader& ca, std::string_view key, std::vector<FileRef>& out) {
  const std::string base = folderOf(ca.ctx().file());
  ca.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      ca.ctx().error(item, path, "expected a file path");
      return;
    }
    out.push_back(FileRef{resolved(base, item.Scalar()), config::locOf(item)});
  });
}

bool isIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

void readNames(MapReader& r, std::string_view key, bool (*valid)(const std::string&), const char* what,
               std::vector<std::string>& out) {
  if (!r.has(key)) return;
  out.clear();
  r.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    if (!item.IsScalar() || !valid(item.Scalar())) {
      r.ctx().error(item, path, std::string("expected ") + what);
      return;
    }
    out.push_back(item.Scalar());
  });
}

void readServing(MapReader& ca, CaServing& s) {
  if (ca.has("address")) {
    ip::Address a;
    ca.address("address", a);
    if (a.family() != 0) s.address = a.str();
  }
  ca.boolean("plaintext", s.plaintext);
  const YAML::Node n = ca.child("tls");
  if (!n.IsDefined()) return;
  if (s.plaintext) ca.ctx().error(ca.locOf("tls"), "ca.tls", "plaintext: true serves no certificate: drop one of them");
  MapReader r(ca.ctx(), n, "ca.tls");
  if (!r.isMap()) return;
  readNames(r, "dns_names", ca::isDnsName, "a DNS name (lower-case labels: 'sluice-control.sluice-system.svc')",
            s.dns_names);
  readNames(r, "ip_addresses", isIpAddress, "an IP address ('127.0.0.1')", s.ip_addresses);
  r.duration("certificate_ttl", s.certificate_ttl);
  if (s.certificate_ttl < kMinTtl)
    r.ctx().error(r.locOf("certificate_ttl"), "ca.tls.certificate_ttl", "must be at least 1m");
  FileRef file;
  if (readFile(r, "cert_file", file, false)) s.cert_file = file;
  if (readFile(r, "key_file", file, false)) s.key_file = file;
  if (r.has("cert_file") != r.has("key_file"))
    r.ctx().error(n, "ca.tls", "needs both cert_file and key_file, or neither");
  const auto listed = [&r](std::string_view key) { return r.has(key) && r.child(key).size() > 0; };
  if (!r.has("cert_file") && s.dns_names.empty() && s.ip_addresses.empty() && !listed("dns_names") &&
      !listed("ip_addresses"))
    r.ctx().error(n, "ca.tls", "needs a name for the serving certificate: dns_names or ip_addresses");
  r.finish();
}

}  // namespace

bool isDnsName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    if (!(std::islower(c) || std::isdigit(c) || c == '-') || (label == 0 && c == '-') || ++label > 63) return false;
  }
  return label != 0 && s.back() != '-';
}

std::string CaSpec::restartNeededFor(const CaSpec& next) const {
  if (trust_domain != next.trust_domain) return "ca.trust_domain";
  if (dir.path != next.dir.path) return "ca.dir";
  if (root != next.root) return "ca.root";
  if (intermediate != next.intermediate) return "ca.intermediate";
  if (serving.address != next.serving.address) return "ca.address";
  if (serving.plaintext != next.serving.plaintext) return "ca.plaintext";
  if (!(serving == next.serving)) return "ca.tls";
  return {};
}

void readCaSpec(MapReader& top, std::optional<CaSpec>& out) {
  const YAML::Node n = top.child("ca");
  if (!n.IsDefined()) return;
  MapReader r(top.ctx(), n, "ca");
  if (!r.isMap()) return;
  CaSpec spec;
  spec.loc = config::locOf(n);
  r.string("trust_domain", spec.trust_domain, /*required=*/true);
  if (r.has("trust_domain") && r.child("trust_domain").IsScalar()) {
    std::string why;
    const auto id = identity::parseSpiffeId("spiffe://" + spec.trust_domain, &why, /*allow_bare_trust_domain=*/true);
    if (!id || !id->path.empty())
      r.ctx().error(r.locOf("trust_domain"), "ca.trust_domain",
                    "'" + spec.trust_domain + "' is not a SPIFFE trust domain" + (why.empty() ? "" : ": " + why));
  }
  spec.dir = FileRef{resolved(folderOf(top.ctx().file()), "ca-state"), spec.loc};
  readFile(r, "dir", spec.dir, false);
  spec.intermediate = readPair(r, "intermediate", /*key_required=*/true);
  // An offline root signs the intermediate; only the intermediate's key is needed here.
  spec.root = readPair(r, "root", /*key_required=*/!r.has("intermediate"));
  if (spec.intermediate && !r.has("root"))
    r.ctx().error(r.locOf("intermediate"), "ca.intermediate", "needs 'root' (the root it chains to)");
  readFileList(r, "extra_roots", spec.extra_roots);
  r.duration("default_ttl", spec.default_ttl);
  r.duration("max_ttl", spec.max_ttl);
  for (const char* key : {"default_ttl", "max_ttl"}) {
    const config::Duration d = std::string_view(key) == "max_ttl" ? spec.max_ttl : spec.default_ttl;
    if (d < kMinTtl) r.ctx().error(r.locOf(key), r.childPath(key), "must be at least 1m");
  }
  if (spec.default_ttl > spec.max_ttl && spec.default_ttl >= kMinTtl && spec.max_ttl >= kMinTtl)
    r.ctx().error(r.locOf("default_ttl"), "ca.default_ttl", "must not exceed max_ttl");
  readServing(r, spec.serving);
  readFileList(r, "token_keys", spec.token_keys);
  if (spec.token_keys.empty() && !(r.has("token_keys") && !r.child("token_keys").IsSequence()))
    r.ctx().error(r.has("token_keys") ? r.locOf("token_keys") : config::locOf(n), "ca.token_keys",
                  "needs at least one key file (bootstrap tokens are signed with it)");
  r.finish();
  out = std::move(spec);
}

}  // namespace sluice::control::ca
