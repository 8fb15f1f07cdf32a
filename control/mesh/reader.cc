#include "control/mesh/reader.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

#include "config/authz_policy.h"
#include "config/cluster_reader.h"
#include "config/field_reader.h"
#include "config/filter_spec.h"
#include "config/hash_policy.h"
#include "config/header_mutation.h"
#include "config/retry_policy.h"
#include "config/route_config.h"
#include "control/mesh/gateway_tls.h"
#include "control/mesh/merge.h"
#include "control/mesh/node_text.h"
#include "ip/cidr.h"

namespace sluice::control::mesh {
namespace {

using config::MapReader;
using config::ParseContext;

// Kubernetes names: DNS labels for namespaces and services, and the same
// shape (lower case, digits, '-', '.') for workloads and service accounts.
bool isName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (!std::isalnum(static_cast<unsigned char>(s.front())) || !std::isalnum(static_cast<unsigned char>(s.back())))
    return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '-' || c == '.'; });
}

void readNameField(MapReader& r, std::string_view key, std::string& out, bool required) {
  if (!config::readString(r, key, out, required) && !r.has(key)) return;
  if (!isName(out))
    r.ctx().error(r.locOf(key), r.childPath(key),
                  "'" + out + "' is not a valid name (lower case letters, digits, '-' and '.')");
}

void readLabels(MapReader& r, std::string_view key, Labels& out) {
  const YAML::Node n = r.child(key);
  if (!n.IsDefined()) return;
  if (!n.IsMap()) {
    r.ctx().error(n, r.childPath(key), "expected a mapping of label names to values");
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar() || !it->second.IsScalar() || it->first.Scalar().empty()) {
      r.ctx().error(it->first, r.childPath(key), "labels are name: value pairs of strings");
      continue;
    }
    out[it->first.Scalar()] = it->second.Scalar();
  }
}

bool parsePortInto(const std::string& text, std::vector<uint32_t>& out) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), ::isdigit)) return false;
  const unsigned long v = std::stoul(text);
  if (v < 1 || v > 65535) return false;
  out.push_back(static_cast<uint32_t>(v));
  return true;
}

bool parseProtocol(std::string_view s, Protocol& out) {
  static constexpr std::pair<std::string_view, Protocol> kNames[] = {
      {"http", Protocol::Http}, {"http2", Protocol::Http2}, {"grpc", Protocol::Grpc}, {"tcp", Protocol::Tcp}};
  for (const auto& [name, p] : kNames)
    if (s == name) {
      out = p;
      return true;
    }
  return false;
}

void readServices(MapReader& top, Mesh& mesh) {
  top.forEachItem("services", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    if (!r.isMap()) return;
    Service s;
    s.loc = config::locOf(item);
    s.source = nodeText(item);
    s.path = path;
    readNameField(r, "name", s.name, true);
    readNameField(r, "namespace", s.ns, false);
    config::checkListNotEmpty(r, "ports");
    r.forEachItem("ports", [&](const YAML::Node& pn, const std::string& ppath) {
      MapReader pr(r.ctx(), pn, ppath);
      if (!pr.isMap()) return;
      ServicePort p;
      p.loc = config::locOf(pn);
      pr.uint32("port", p.port, 1, 65535, true);
      std::string protocol = "http";
      pr.string("protocol", protocol);
      if (!parseProtocol(protocol, p.protocol))
        pr.ctx().error(pr.locOf("protocol"), pr.childPath("protocol"), "must be one of http, http2, grpc, tcp");
      p.name = protocol + "-" + std::to_string(p.port);
      readNameField(pr, "name", p.name, false);
      pr.finish();
      for (const auto& other : s.ports)
        if (other.port == p.port && p.port != 0)
          pr.ctx().error(pn, ppath + ".port", "duplicate port " + std::to_string(p.port));
      s.ports.push_back(std::move(p));
    });
    r.forEachItem("endpoints", [&](const YAML::Node& en, const std::string& epath) {
      MapReader er(r.ctx(), en, epath);
      if (!er.isMap()) return;
      Endpoint e;
      e.loc = config::locOf(en);
      er.address("address", e.address, true);
      er.uint32("weight", e.weight, 1, 128);
      er.uint32("priority", e.priority, 0, 7);
      if (er.has("locality")) {
        MapReader lr(er.ctx(), er.child("locality"), er.childPath("locality"));
        if (lr.isMap()) {
          lr.string("region", e.locality.region);
          lr.string("zone", e.locality.zone);
          lr.string("sub_zone", e.locality.sub_zone);
          lr.finish();
        }
      }
      er.uint32("port", e.port, 1, 65535);
      readNameField(er, "workload", e.workload, false);
      er.finish();
      s.endpoints.push_back(std::move(e));
    });
    r.forEachItem("addresses", [&](const YAML::Node& an, const std::string& apath) {
      std::string why;
      const std::string text = an.IsScalar() ? an.Scalar() : std::string();
      if (text.find('/') != std::string::npos || !ip::Cidr::parse(text, &why)) {
        r.ctx().error(an, apath, "'" + text + "' is not an IP address (a service's virtual IP, no port or prefix)");
        return;
      }
      std::string canonical = ip::Cidr::parse(text)->str();  // "10.96.0.12/32"
      s.addresses.push_back(canonical.substr(0, canonical.find('/')));
    });
    r.finish();
    mesh.services.push_back(std::move(s));
  });
}

void readBindings(MapReader& r, std::string_view key, bool inbound, std::vector<PortBinding>& out) {
  r.forEachItem(key, [&](const YAML::Node& n, const std::string& path) {
    MapReader br(r.ctx(), n, path);
    if (!br.isMap()) return;
    PortBinding b;
    b.loc = config::locOf(n);
    b.path = path;
    readNameField(br, "service", b.service, true);
    br.uint32("port", b.port, 1, 65535, true);
    br.address("address", b.address, true);
    if (inbound) br.address("app", b.app, true);
    br.finish();
    out.push_back(std::move(b));
  });
}

void readWorkloads(MapReader& top, Mesh& mesh) {
  top.forEachItem("workloads", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    if (!r.isMap()) return;
    Workload w;
    w.loc = config::locOf(item);
    w.source = nodeText(item);
    w.path = path;
    readNameField(r, "name", w.name, true);
    readNameField(r, "namespace", w.ns, false);
    w.service_account = w.name;
    readNameField(r, "service_account", w.service_account, false);
    readLabels(r, "labels", w.labels);
    readBindings(r, "inbound", true, w.inbound);
    readBindings(r, "outbound", false, w.outbound);
    r.boolean("capture", w.captured);
    r.finish();
    mesh.workloads.push_back(std::move(w));
  });
}

// `grpc: {service: pkg.Svc, method: Get}` is the path /pkg.Svc/Get (a
// method), or the prefix /pkg.Svc/ (every method of the service).
YAML::Node grpcMatch(MapReader& r, const YAML::Node& match, const std::string& path) {
  MapReader mr(r.ctx(), match, path);
  MapReader gr(r.ctx(), mr.child("grpc"), mr.childPath("grpc"));
  std::string service, method;
  if (gr.isMap()) {
    if (config::readString(gr, "service", service, true)) config::checkNotEmpty(gr, "service", service);
    config::readString(gr, "method", method);
    gr.finish();
  }
  for (std::string_view k : {"prefix", "path", "regex"})
    if (mr.has(k)) mr.ctx().error(mr.locOf(k), mr.childPath(k), "a grpc match sets the path itself");
  YAML::Node out(YAML::NodeType::Map);
  for (auto it = match.begin(); it != match.end(); ++it)
    if (it->first.Scalar() != "grpc") out[it->first.Scalar()] = it->second;
  if (method.empty())
    out["prefix"] = "/" + service + "/";
  else
    out["path"] = "/" + service + "/" + method;
  return out;
}

void readDestinations(MapReader& r, RouteRule& rule) {
  config::checkListNotEmpty(r, "to");
  r.forEachItem("to", [&](const YAML::Node& n, const std::string& path) {
    MapReader dr(r.ctx(), n, path);
    if (!dr.isMap()) return;
    Destination d;
    d.loc = config::locOf(n);
    d.path = path;
    readNameField(dr, "service", d.service, true);
    readNameField(dr, "namespace", d.ns, false);
    dr.uint32("port", d.port, 1, 65535);
    readLabels(dr, "subset", d.subset);
    d.weight = 0;
    dr.uint32("weight", d.weight, 0, 1000000);
    dr.finish();
    rule.to.push_back(std::move(d));
  });
  if (rule.to.size() > 1) {
    uint64_t total = 0;
    for (const auto& d : rule.to) total += d.weight;
    if (total == 0) r.ctx().error(r.locOf("to"), r.childPath("to"), "the weights of a split must not all be 0");
  }
}

// Keys of a rule handed on to the sluice route, read here (and thrown away)
// so that their errors carry the mesh's paths.
void checkPassedOn(MapReader& r, RouteRule& rule) {
  config::Duration timeout{};
  r.duration("timeout", timeout);
  (void)config::readRetryPolicy(r);
  std::vector<config::HashPolicyConfig> hash;
  config::readHashPolicy(r, hash);
  config::HeaderMutation headers;
  config::readHeaderMutation(r, headers);
  for (std::string_view k : {"timeout", "retry_policy", "hash_policy"})
    if (r.has(k)) rule.route_keys[std::string(k)] = r.child(k);
  for (std::string_view k :
       {"request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove"})
    if (r.has(k)) rule.entry_keys[std::string(k)] = r.child(k);
  // The fault filter's own reader, as for a sluice route's per_filter_config.
  if (r.has("fault")) {
    MapReader fr(r.ctx(), r.child("fault"), r.childPath("fault"));
    (void)config::findHttpFilterReader("fault")->readPerRoute(fr);
    rule.fault = r.child("fault");
  }
}

void readRouteSets(MapReader& top, Mesh& mesh) {
  top.forEachItem("routes", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    if (!r.isMap()) return;
    RouteSet rs;
    rs.loc = config::locOf(item);
    rs.source = nodeText(item);
    rs.path = path;
    readNameField(r, "name", rs.name, true);
    readNameField(r, "namespace", rs.ns, false);
    readNameField(r, "service", rs.service, false);
    for (auto& g : config::readStrings(r, "gateways")) rs.gateways.push_back(std::move(g.value));
    for (auto& h : config::readStrings(r, "hosts")) rs.hosts.push_back(std::move(h.value));
    if (rs.service.empty() == rs.gateways.empty())
      r.ctx().error(item, path, "needs exactly one of 'service' (traffic to a service) or 'gateways'");
    if (!rs.hosts.empty() && rs.gateways.empty())
      r.ctx().error(r.locOf("hosts"), r.childPath("hosts"), "hosts are for routes bound to gateways");
    if (rs.hosts.empty()) rs.hosts.push_back("*");
    config::checkListNotEmpty(r, "rules");
    r.forEachItem("rules", [&](const YAML::Node& rn, const std::string& rpath) {
      MapReader rr(r.ctx(), rn, rpath);
      if (!rr.isMap()) return;
      RouteRule rule;
      rule.loc = config::locOf(rn);
      rule.path = rpath;
      rule.name = rs.name + "/" + std::to_string(rs.rules.size());
      if (config::readString(rr, "name", rule.name)) config::checkNotEmpty(rr, "name", rule.name);
      const YAML::Node match = rr.child("match");
      if (!match.IsDefined()) {
        rule.match = YAML::Node(YAML::NodeType::Map);
        rule.match["prefix"] = "/";
      } else if (match.IsMap() && match["grpc"].IsDefined()) {
        rule.match = grpcMatch(rr, match, rr.childPath("match"));
      } else {
        rule.match = match;
      }
      if (rule.match.IsMap()) {
        MapReader mr(rr.ctx(), rule.match, rr.childPath("match"));
        config::RouteMatch m;
        config::readRouteMatch(mr, m);
      } else {
        rr.ctx().error(match, rr.childPath("match"), "expected a mapping");
      }
      readDestinations(rr, rule);
      for (auto& d : rule.to)
        if (d.ns.empty()) d.ns = rs.ns;
      checkPassedOn(rr, rule);
      rr.finish();
      rs.rules.push_back(std::move(rule));
    });
    r.finish();
    mesh.routes.push_back(std::move(rs));
  });
}

void readGateways(MapReader& top, Mesh& mesh) {
  top.forEachItem("gateways", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    if (!r.isMap()) return;
    Gateway g;
    g.loc = config::locOf(item);
    g.source = nodeText(item);
    g.path = path;
    readNameField(r, "name", g.name, true);
    readNameField(r, "namespace", g.ns, false);
    g.service_account = g.name;
    readNameField(r, "service_account", g.service_account, false);
    config::checkListNotEmpty(r, "listeners");
    r.forEachItem("listeners", [&](const YAML::Node& ln, const std::string& lpath) {
      MapReader lr(r.ctx(), ln, lpath);
      if (!lr.isMap()) return;
      GatewayListener l;
      l.loc = config::locOf(ln);
      l.name = "http-" + std::to_string(g.listeners.size());
      readNameField(lr, "name", l.name, false);
      lr.address("address", l.address, true);
      readGatewayTls(lr, l.tls);
      lr.finish();
      g.listeners.push_back(std::move(l));
    });
    r.finish();
    mesh.gateways.push_back(std::move(g));
  });
}

bool parseMode(std::string_view s, MtlsMode& out) {
  if (s == "STRICT")
    out = MtlsMode::Strict;
  else if (s == "PERMISSIVE")
    out = MtlsMode::Permissive;
  else if (s == "DISABLE")
    out = MtlsMode::Disable;
  else
    return false;
  return true;
}

// `from: {service_accounts: [sa or ns/sa], namespaces: [ns]}` in an
// authorization rule becomes the authz filter's principals.
void expandFrom(MapReader& policy, YAML::Node rule, const std::string& path, const std::string& ns, const Mesh& mesh) {
  YAML::Node from = rule["from"];
  MapReader fr(policy.ctx(), from, path + ".from");
  if (!fr.isMap()) return;
  YAML::Node principals = rule["principals"].IsDefined() ? rule["principals"] : YAML::Node(YAML::NodeType::Sequence);
  for (auto& sa : config::readStrings(fr, "service_accounts")) {
    std::string sa_ns = ns, name = sa.value;
    if (auto slash = name.find('/'); slash != std::string::npos) {
      sa_ns = name.substr(0, slash);
      name = name.substr(slash + 1);
    }
    if (!isName(sa_ns) || !isName(name)) {
      fr.ctx().error(sa.node, sa.path, "expected a service account name, or namespace/name");
      continue;
    }
    YAML::Node p;
    p["spiffe_id"]["exact"] = mesh.spiffeId(sa_ns, name);
    principals.push_back(p);
  }
  for (auto& other : config::readStrings(fr, "namespaces")) {
    if (!isName(other.value)) {
      fr.ctx().error(other.node, other.path, "'" + other.value + "' is not a valid namespace");
      continue;
    }
    YAML::Node p;
    p["spiffe_id"]["prefix"] = "spiffe://" + mesh.trust_domain + "/ns/" + other.value + "/";
    principals.push_back(p);
  }
  fr.finish();
  rule.remove("from");
  if (principals.size() > 0) rule["principals"] = principals;
}

void readPolicies(MapReader& top, Mesh& mesh) {
  const YAML::Node n = top.child("policies");
  if (!n.IsDefined()) return;
  MapReader r(top.ctx(), n, top.childPath("policies"));
  if (!r.isMap()) return;
  r.forEachItem("peer_authentication", [&](const YAML::Node& item, const std::string& path) {
    MapReader pr(r.ctx(), item, path);
    if (!pr.isMap()) return;
    PeerAuthentication pa;
    pa.loc = config::locOf(item);
    pa.source = nodeText(item);
    readNameField(pr, "namespace", pa.ns, false);
    readNameField(pr, "workload", pa.workload, false);
    if (!pa.workload.empty() && pa.ns.empty()) pa.ns = "default";
    std::string mode;
    if (config::readString(pr, "mode", mode, true) && !parseMode(mode, pa.mode))
      pr.ctx().error(pr.locOf("mode"), pr.childPath("mode"), "must be STRICT, PERMISSIVE or DISABLE");
    pr.finish();
    for (const auto& other : mesh.peer_authentication)
      if (other.ns == pa.ns && other.workload == pa.workload)
        pr.ctx().error(item, path, "a second peer authentication for the same namespace and workload");
    mesh.peer_authentication.push_back(std::move(pa));
  });
  r.forEachItem("authorization", [&](const YAML::Node& item, const std::string& path) {
    MapReader ar(r.ctx(), item, path);
    if (!ar.isMap()) return;
    AuthorizationPolicy ap;
    ap.loc = config::locOf(item);
    ap.path = path;
    readNameField(ar, "name", ap.name, true);
    readNameField(ar, "namespace", ap.ns, false);
    readNameField(ar, "service", ap.service, false);
    readNameField(ar, "workload", ap.workload, false);
    if (ap.service.empty() == ap.workload.empty())
      ar.ctx().error(item, path, "needs exactly one of 'service' or 'workload'");
    ar.forEachItem("ports", [&](const YAML::Node& pn, const std::string& ppath) {
      if (!pn.IsScalar() || !parsePortInto(pn.Scalar(), ap.ports))
        ar.ctx().error(pn, ppath, "expected a port number (1-65535)");
    });
    ar.forEachItem("rules", [&](const YAML::Node& rule, const std::string& rpath) {
      if (rule.IsMap() && rule["from"].IsDefined()) expandFrom(ar, rule, rpath, ap.ns, mesh);
    });
    (void)config::readAuthzPolicy(ar, config::AuthzLayer::Http);
    ar.finish();
    ap.source = nodeText(item);  // `from:` expanded
    ap.policy = YAML::Node(YAML::NodeType::Map);
    for (std::string_view k : {"default_action", "rules"})
      if (item[std::string(k)].IsDefined()) ap.policy[std::string(k)] = item[std::string(k)];
    mesh.authorization.push_back(std::move(ap));
  });
  r.forEachItem("rate_limits", [&](const YAML::Node& item, const std::string& path) {
    MapReader lr(r.ctx(), item, path);
    if (!lr.isMap()) return;
    RateLimitPolicy rl;
    rl.loc = config::locOf(item);
    rl.path = path;
    rl.source = nodeText(item);
    readNameField(lr, "name", rl.name, true);
    readNameField(lr, "namespace", rl.ns, false);
    readNameField(lr, "service", rl.service, false);
    readNameField(lr, "workload", rl.workload, false);
    if (rl.service.empty() == rl.workload.empty())
      lr.ctx().error(item, path, "needs exactly one of 'service' or 'workload'");
    for (std::string_view filter : {"local_ratelimit", "ratelimit"}) {
      if (!lr.has(filter)) continue;
      const YAML::Node settings = lr.child(filter);
      if (!settings.IsMap()) {
        lr.ctx().error(settings, lr.childPath(filter), "expected a mapping");
        continue;
      }
      // The filter's own reader checks it where it stands; its stat_prefix is
      // the policy's name.
      YAML::Node in_place = settings;
      if (!in_place["stat_prefix"].IsDefined()) in_place["stat_prefix"] = rl.name.empty() ? "mesh" : rl.name;
      MapReader fr(lr.ctx(), in_place, lr.childPath(filter));
      (void)config::findHttpFilterReader(filter)->read(fr);
      rl.filters[std::string(filter)] = YAML::Clone(in_place);
    }
    if (rl.filters.empty()) lr.ctx().error(item, path, "needs local_ratelimit or ratelimit");
    lr.finish();
    mesh.rate_limits.push_back(std::move(rl));
  });
  r.forEachItem("destinations", [&](const YAML::Node& item, const std::string& path) {
    if (!item.IsMap()) {
      r.ctx().error(item, path, "expected a mapping");
      return;
    }
    DestinationPolicy dp;
    dp.loc = config::locOf(item);
    dp.source = nodeText(item);
    // The cluster settings are read by sluice's cluster reader, on a cluster
    // made of them; its errors are moved to this entry's path.
    YAML::Node cluster(YAML::NodeType::Map);
    for (auto it = item.begin(); it != item.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key == "service")
        dp.service = it->second.Scalar();
      else if (key == "namespace")
        dp.ns = it->second.Scalar();
      else {
        cluster[key] = it->second;
        dp.cluster_keys[key] = it->second;
      }
    }
    if (dp.service.empty()) r.ctx().error(item, path + ".service", "missing required field");
    cluster["name"] = "check";
    cluster["endpoints"].push_back(YAML::Load("{address: 127.0.0.1:1}"));
    YAML::Node list(YAML::NodeType::Sequence);
    list.push_back(cluster);
    YAML::Node holder(YAML::NodeType::Map);
    holder["clusters"] = list;
    ParseContext own(r.ctx().file());
    config::Config scratch;
    MapReader hr(own, holder, "");
    config::readClusters(hr, scratch);
    for (const auto& e : own.errors()) {
      std::string p = e.path;
      if (p.rfind("clusters[0]", 0) == 0) p = path + p.substr(std::string("clusters[0]").size());
      r.ctx().error(config::SourceLoc{e.line, e.column}, p, e.message);
    }
    mesh.destinations.push_back(std::move(dp));
  });
  r.finish();
}

// References between the parts, and addresses used twice.
void checkReferences(const Mesh& mesh, ParseContext& ctx) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& s : mesh.services)
    if (!seen.emplace(s.ns, s.name).second) ctx.error(s.loc, s.path, "duplicate service " + s.ns + "/" + s.name);
  seen.clear();
  for (const auto& w : mesh.workloads)
    if (!seen.emplace(w.ns, w.name).second) ctx.error(w.loc, w.path, "duplicate workload " + w.ns + "/" + w.name);
  for (const auto& g : mesh.gateways)
    if (!seen.emplace(g.ns, g.name).second)
      ctx.error(g.loc, g.path, "gateway " + g.ns + "/" + g.name + " has the name of another workload or gateway");

  std::unordered_map<std::string, std::string> addresses;  // address -> path of first use
  auto claim = [&](const ip::Address& a, config::SourceLoc loc, const std::string& path) {
    if (a.family() == 0) return;
    auto [it, fresh] = addresses.emplace(a.str(), path);
    if (!fresh) ctx.error(loc, path, "address " + a.str() + " is already used by " + it->second);
  };
  auto servicePort = [&](const std::string& ns, const std::string& name, uint32_t port, config::SourceLoc loc,
                         const std::string& path) -> bool {
    const Service* s = mesh.findService(ns, name);
    if (s == nullptr) {
      ctx.error(loc, path + ".service", "unknown service '" + name + "' in namespace '" + ns + "'");
      return false;
    }
    if (port != 0 && s->findPort(port) == nullptr) {
      ctx.error(loc, path + ".port", "service " + ns + "/" + name + " has no port " + std::to_string(port));
      return false;
    }
    return true;
  };
  for (const auto& w : mesh.workloads) {
    for (const auto& b : w.inbound) {
      servicePort(w.ns, b.service, b.port, b.loc, b.path);
      claim(b.address, b.loc, b.path + ".address");
    }
    for (const auto& b : w.outbound) {
      servicePort(w.ns, b.service, b.port, b.loc, b.path);
      claim(b.address, b.loc, b.path + ".address");
    }
  }
  for (const auto& g : mesh.gateways)
    for (size_t i = 0; i < g.listeners.size(); ++i)
      claim(g.listeners[i].address, g.listeners[i].loc, g.path + ".listeners[" + std::to_string(i) + "].address");
  for (const auto& s : mesh.services)
    for (size_t i = 0; i < s.endpoints.size(); ++i) {
      const auto& e = s.endpoints[i];
      if (e.port != 0 && s.findPort(e.port) == nullptr)
        ctx.error(e.loc, s.path + ".endpoints[" + std::to_string(i) + "].port",
                  "service " + s.ns + "/" + s.name + " has no port " + std::to_string(e.port));
      if (!e.workload.empty() && mesh.findWorkload(s.ns, e.workload) == nullptr)
        ctx.error(e.loc, s.path + ".endpoints[" + std::to_string(i) + "].workload",
                  "unknown workload '" + e.workload + "' in namespace '" + s.ns + "'");
    }
  for (const auto& rs : mesh.routes) {
    if (!rs.service.empty() && mesh.findService(rs.ns, rs.service) == nullptr)
      ctx.error(rs.loc, rs.path + ".service", "unknown service '" + rs.service + "' in namespace '" + rs.ns + "'");
    for (const auto& gname : rs.gateways) {
      const bool known =
          std::any_of(mesh.gateways.begin(), mesh.gateways.end(), [&](const Gateway& g) { return g.name == gname; });
      if (!known) ctx.error(rs.loc, rs.path + ".gateways", "unknown gateway '" + gname + "'");
    }
    for (const auto& rule : rs.rules)
      for (const auto& d : rule.to) servicePort(d.ns, d.service, d.port, d.loc, d.path);
  }
  for (const auto& ap : mesh.authorization) {
    if (!ap.service.empty() && mesh.findService(ap.ns, ap.service) == nullptr)
      ctx.error(ap.loc, ap.path + ".service", "unknown service '" + ap.service + "' in namespace '" + ap.ns + "'");
    if (!ap.workload.empty() && mesh.findWorkload(ap.ns, ap.workload) == nullptr)
      ctx.error(ap.loc, ap.path + ".workload", "unknown workload '" + ap.workload + "' in namespace '" + ap.ns + "'");
  }
  for (const auto& rl : mesh.rate_limits) {
    if (!rl.service.empty() && mesh.findService(rl.ns, rl.service) == nullptr)
      ctx.error(rl.loc, rl.path + ".service", "unknown service '" + rl.service + "' in namespace '" + rl.ns + "'");
    if (!rl.workload.empty() && mesh.findWorkload(rl.ns, rl.workload) == nullptr)
      ctx.error(rl.loc, rl.path + ".workload", "unknown workload '" + rl.workload + "' in namespace '" + rl.ns + "'");
  }
  for (const auto& pa : mesh.peer_authentication)
    if (!pa.workload.empty() && mesh.findWorkload(pa.ns, pa.workload) == nullptr)
      ctx.error(pa.loc, "mesh.policies.peer_authentication",
                "unknown workload '" + pa.workload + "' in namespace '" + pa.ns + "'");
  for (const auto& dp : mesh.destinations)
    if (mesh.findService(dp.ns, dp.service) == nullptr)
      ctx.error(dp.loc, "mesh.policies.destinations",
                "unknown service '" + dp.service + "' in namespace '" + dp.ns + "'");
}

void readCapture(MapReader& top, CaptureSettings& out) {
  if (!top.has("capture")) return;
  MapReader r(top.ctx(), top.child("capture"), top.childPath("capture"));
  if (!r.isMap()) {
    r.ctx().error(r.node(), r.path(), "expected a mapping");
    return;
  }
  out.source = nodeText(r.node());
  r.uint32("inbound_port", out.inbound_port, 1, 65535);
  r.uint32("outbound_port", out.outbound_port, 1, 65535);
  std::string policy = out.allow_unknown_outbound ? "ALLOW_ANY" : "REGISTRY_ONLY";
  r.string("outbound_traffic_policy", policy);
  if (policy != "ALLOW_ANY" && policy != "REGISTRY_ONLY")
    r.ctx().error(r.locOf("outbound_traffic_policy"), r.childPath("outbound_traffic_policy"),
                  "must be ALLOW_ANY or REGISTRY_ONLY");
  out.allow_unknown_outbound = policy == "ALLOW_ANY";
  if (out.inbound_port == out.outbound_port)
    r.ctx().error(r.locOf("outbound_port"), r.childPath("outbound_port"), "must differ from inbound_port");
  r.finish();
}

// Captured outbound traffic is told apart by its destination: two services
// on one virtual IP and port would be one chain's match.
void checkServiceAddresses(const Mesh& mesh, ParseContext& ctx) {
  std::unordered_map<std::string, const Service*> taken;  // "ip port" -> its service
  for (const auto& s : mesh.services)
    for (const auto& a : s.addresses)
      for (const auto& p : s.ports) {
        const auto [it, fresh] = taken.emplace(a + " " + std::to_string(p.port), &s);
        if (!fresh && it->second != &s)
          ctx.error(s.loc, s.path + ".addresses",
                    "address " + a + " port " + std::to_string(p.port) + " is also service '" + it->second->ns + "/" +
                        it->second->name + "'s");
      }
}

}  // namespace

void readMesh(MapReader& r, Mesh& out, const Mesh* discovered, std::vector<std::string>* shadowed) {
  config::readString(r, "trust_domain", out.trust_domain);
  readCapture(r, out.capture);
  readServices(r, out);
  readWorkloads(r, out);
  readGateways(r, out);
  readRouteSets(r, out);
  readPolicies(r, out);
  r.finish();
  if (discovered != nullptr) mergeDiscovered(out, *discovered, shadowed);
  out.index();
  checkReferences(out, r.ctx());
  checkServiceAddresses(out, r.ctx());
}

}  // namespace sluice::control::mesh
