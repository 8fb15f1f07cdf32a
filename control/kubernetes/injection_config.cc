#include "control/kubernetes/injection_config.h"

#include <algorithm>
#include <cctype>

#include "ip/address.h"
#include "ip/cidr.h"

namespace sluice::control::kubernetes {
namespace {

using config::MapReader;

std::string folderOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash + 1);
}

// "host:port" with a port 1..65535 and a non-empty host (a DNS name or an IP).
bool isHostPort(const std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size() || s.size() - colon > 6) return false;
  const std::string port = s.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
  const unsigned long n = std::stoul(port);
  return n >= 1 && n <= 65535;
}

void readFileRef(MapReader& r, std::string_view key, std::optional<ca::FileRef>& out) {
  if (!r.has(key)) return;
  std::string path;
  r.string(key, path);
  if (!r.child(key).IsScalar()) return;
  if (path.empty()) {
    r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
    return;
  }
  out = ca::FileRef{path.front() == '/' ? path : folderOf(r.ctx().file()) + path, r.locOf(key)};
}

void readWebhook(MapReader& inj, bool has_ca, WebhookServing& w) {
  const YAML::Node n = inj.child("webhook");
  if (!n.IsDefined()) {
    if (!has_ca)
      inj.ctx().error(inj.node(), "injection.webhook",
                      "missing: the serving certificate comes from the mesh CA (`ca:`) or from cert_file and key_file");
    return;
  }
  MapReader r(inj.ctx(), n, "injection.webhook");
  if (!r.isMap()) return;
  ip::Address a;
  if (r.has("address")) {
    r.address("address", a);
    if (a.family() != 0) w.address = a.str();
  }
  r.string("path", w.path);
  if (w.path.empty() || w.path.front() != '/' || w.path.find_first_of("?# ") != std::string::npos)
    r.ctx().error(r.locOf("path"), "injection.webhook.path", "must be a path starting with '/' ('/inject')");
  if (r.has("dns_names")) {
    w.dns_names.clear();
    r.forEachItem("dns_names", [&](const YAML::Node& item, const std::string& path) {
      if (!item.IsScalar() || !ca::isDnsName(item.Scalar())) {
        r.ctx().error(item, path, "expected a DNS name (lower-case labels: 'sluice-control.sluice-system.svc')");
        return;
      }
      w.dns_names.push_back(item.Scalar());
    });
  }
  r.duration("certificate_ttl", w.certificate_ttl);
  if (w.certificate_ttl < ca::kMinTtl)
    r.ctx().error(r.locOf("certificate_ttl"), "injection.webhook.certificate_ttl", "must be at least 1m");
  readFileRef(r, "cert_file", w.cert_file);
  readFileRef(r, "key_file", w.key_file);
  if (r.has("cert_file") != r.has("key_file"))
    r.ctx().error(n, "injection.webhook", "needs both cert_file and key_file, or neither");
  if (!r.has("cert_file") && !r.has("key_file")) {
    if (!has_ca)
      r.ctx().error(n, "injection.webhook",
                    "the serving certificate comes from the mesh CA: add `ca:`, or give cert_file and key_file");
    else if (w.dns_names.empty() && r.has("dns_names"))
      r.ctx().error(r.locOf("dns_names"), "injection.webhook.dns_names",
                    "needs at least one name (the API server calls the webhook by its Service's name)");
  }
  r.finish();
}

void readQuantities(MapReader& res, std::string_view key, ResourceQuantities& q) {
  const YAML::Node n = res.child(key);
  if (!n.IsDefined()) return;
  MapReader r(res.ctx(), n, res.childPath(key));
  if (!r.isMap()) return;
  for (auto [name, out] : {std::pair<const char*, std::string*>{"cpu", &q.cpu}, {"memory", &q.memory}}) {
    if (!r.has(name)) continue;
    r.string(name, *out);
    if (!isQuantity(*out))
      r.ctx().error(r.locOf(name), r.childPath(name), "'" + *out + "' is not a Kubernetes quantity ('100m', '128Mi')");
  }
  r.finish();
}

void readPorts(MapReader& r, std::string_view key, std::vector<uint16_t>& out) {
  r.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    unsigned long port = 0;
    const std::string s = item.IsScalar() ? item.Scalar() : "";
    const bool digits =
        !s.empty() && s.size() <= 5 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
    if (digits) port = std::stoul(s);
    if (port < 1 || port > 65535) {
      r.ctx().error(item, path, "expected a port (1 to 65535)");
      return;
    }
    out.push_back(static_cast<uint16_t>(port));
  });
}

}  // namespace

const char* failurePolicyName(FailurePolicy p) { return p == FailurePolicy::Fail ? "Fail" : "Ignore"; }

bool isQuantity(std::string_view s) {
  size_t i = 0, digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  const std::string_view suffix = s.substr(i);
  for (std::string_view ok : {"", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"})
    if (suffix == ok) return true;
  return false;
}

void readInjectionSpec(MapReader& top, bool has_ca, std::optional<InjectionSpec>& out) {
  const YAML::Node n = top.child("injection");
  if (!n.IsDefined()) return;
  MapReader r(top.ctx(), n, "injection");
  if (!r.isMap()) return;
  InjectionSpec spec;
  spec.loc = config::locOf(n);
  readWebhook(r, has_ca, spec.webhook);

  std::string policy = "Fail";
  r.string("failure_policy", policy);
  if (policy == "Ignore")
    spec.failure_policy = FailurePolicy::Ignore;
  else if (policy != "Fail")
    r.ctx().error(r.locOf("failure_policy"), "injection.failure_policy",
                  "must be Fail or Ignore, not '" + policy + "'");
  r.boolean("native_sidecar", spec.native_sidecar);

  r.string("ads_address", spec.ads_address, /*required=*/true);
  if (r.has("ads_address") && !isHostPort(spec.ads_address))
    r.ctx().error(r.locOf("ads_address"), "injection.ads_address",
                  "expected host:port ('sluice-control.sluice-system.svc:15010'), got '" + spec.ads_address + "'");
  r.string("ca_address", spec.ca_address);
  if (r.has("ca_address") && !isHostPort(spec.ca_address))
    r.ctx().error(r.locOf("ca_address"), "injection.ca_address", "expected host:port, got '" + spec.ca_address + "'");

  r.string("image", spec.image, /*required=*/true);
  if (r.has("image") && spec.image.empty()) r.ctx().error(r.locOf("image"), "injection.image", "must not be empty");
  r.string("init_image", spec.init_image);
  if (spec.init_image.empty()) spec.init_image = spec.image;
  r.string("image_pull_policy", spec.image_pull_policy);
  if (spec.image_pull_policy != "Always" && spec.image_pull_policy != "IfNotPresent" &&
      spec.image_pull_policy != "Never")
    r.ctx().error(r.locOf("image_pull_policy"), "injection.image_pull_policy", "must be Always, IfNotPresent or Never");

  if (const YAML::Node res = r.child("resources"); res.IsDefined()) {
    MapReader rr(r.ctx(), res, "injection.resources");
    if (rr.isMap()) {
      readQuantities(rr, "requests", spec.requests);
      readQuantities(rr, "limits", spec.limits);
      rr.finish();
    }
  }
  r.string("token_audience", spec.token_audience);
  if (spec.token_audience.empty())
    r.ctx().error(r.locOf("token_audience"), "injection.token_audience", "must not be empty");
  r.boolean("rewrite_probes", spec.rewrite_probes);
  readPorts(r, "exclude_inbound_ports", spec.exclude_inbound_ports);
  readPorts(r, "exclude_outbound_ports", spec.exclude_outbound_ports);
  r.forEachItem("exclude_outbound_cidrs", [&](const YAML::Node& item, const std::string& path) {
    std::string why;
    if (!item.IsScalar() || !ip::Cidr::parse(item.Scalar(), &why)) {
      r.ctx().error(item, path, "expected a CIDR ('10.0.0.0/8')" + (why.empty() ? "" : ": " + why));
      return;
    }
    spec.exclude_outbound_cidrs.push_back(item.Scalar());
  });
  r.finish();
  out = std::move(spec);
}

}  // namespace sluice::control::kubernetes
