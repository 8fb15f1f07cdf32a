#include "control/mesh/proxy_config.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>

#include "config/loader.h"
#include "control/mesh/gateway_tls.h"

namespace sluice::control::mesh {
namespace {

std::string portName(uint32_t port) { return std::to_string(port); }

// Resource names take [A-Za-z0-9_.-]: Istio's "outbound|8080|v1|backend..."
// with '_' for '|'.
std::string inboundName(const PortBinding& b) { return "inbound_" + portName(b.port) + "_" + b.service; }

// "version-v1", "tier-web.version-v1": what a subset's labels select.
std::string subsetKey(const Labels& subset) {
  std::string key;
  for (const auto& [k, v] : subset) key += (key.empty() ? "" : ".") + k + "-" + v;
  for (char& c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '-';
  return key;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
  return out.empty() ? "-" : out;
}

// A destination as one cluster: a service's port, narrowed to a subset.
struct ClusterKey {
  const Service* service = nullptr;
  uint32_t port = 0;
  Labels subset;
  std::string name() const {
    return "outbound_" + portName(port) + "_" + subsetKey(subset) + "_" + service->name + "." + service->ns;
  }
  bool operator<(const ClusterKey& o) const { return name() < o.name(); }
};

bool labelsMatch(const Labels& have, const Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

// What one proxy's document is made of, and the TLS to attach once read.
//
// Nodes from the mesh enter a proxy's document as clones, never by
// assignment: yaml-cpp merges the memory of two trees joined by assignment
// (all of the mesh file into every proxy's document, and every document into
// the next through the shared node), which made a mesh of 200 services take
// half a minute. A clone has no file position, so a proxy's config is read
// back only after the mesh's own reader has checked those nodes in place.
class Builder {
 public:
  Builder(const Mesh& mesh, ProxyConfig& out) : mesh_(mesh), out_(out) {}

  void sidecar(const Workload& w) {
    for (const auto& b : w.inbound) inbound(w, b);
    for (const auto& b : w.outbound) outbound(w, b);
    if (w.captured) {
      capturedInbound(w);
      capturedOutbound();
    }
  }

  void gateway(const Gateway& g) {
    for (const auto& l : g.listeners) {
      YAML::Node vhosts(YAML::NodeType::Sequence);
      size_t faults = 0;
      for (const auto& rs : mesh_.routes) {
        if (std::find(rs.gateways.begin(), rs.gateways.end(), g.name) == rs.gateways.end()) continue;
        YAML::Node vh;
        vh["name"] = rs.name;
        for (const auto& h : rs.hosts) vh["domains"].push_back(h);
        vh["routes"] = routes(rs, nullptr, 0);
        vhosts.push_back(vh);
        faults += faultRules(rs);
      }
      YAML::Node listener;
      const std::string name = "gateway_" + l.name;
      listener["name"] = name;
      listener["address"] = l.address.str();
      listener["http"]["codec"] = "auto";
      if (faults > 0) listener["http"]["http_filters"].push_back(faultFilter());
      listener["http"]["route_config"]["virtual_hosts"] = vhosts;
      listeners_.push_back(listener);
      const std::string routes = std::to_string(vhosts.size()) + " route set(s)";
      if (!l.tls) {
        summary_ +=
            "  listener " + name + "  " + l.address.str() + "  plaintext http, " + routes + faultNote(faults) + "\n";
        continue;
      }
      gateway_tls_[name] = &*l.tls;
      summary_ += "  listener " + name + "  " + l.address.str() + "  https " + std::string(gatewayTlsModeName(*l.tls)) +
                  ", alpn " + joined(l.tls->alpn) + ", " + routes + faultNote(faults) + "\n";
      for (size_t i = 0; i < l.tls->certificates.size(); ++i) {
        const GatewayCertificate& c = l.tls->certificates[i];
        summary_ += "    certificate " + gatewayCertificateSecret(name, i) + ": " + c.subject + ", DNS " +
                    joined(c.dns_names) + ", expires " + c.not_after + "\n";
      }
      if (l.tls->mutual) summary_ += "    client certificates required, verified by " + gatewayCaSecret(name) + "\n";
    }
  }

  // The document, read back by sluice's loader, with TLS attached.
  std::shared_ptr<const config::Config> finish(const std::string& trust_bundle_pem, config::ParseContext& ctx,
                                               const std::string& where) {
    YAML::Node doc;
    doc["listeners"] = listeners_;
    YAML::Node clusters(YAML::NodeType::Sequence);
    for (const auto& [key, node] : clusters_) clusters.push_back(node);
    doc["clusters"] = clusters;
    YAML::Emitter e;
    e << doc;
    out_.yaml = e.c_str();
    out_.yaml += "\n";

    config::ParseContext own(ctx.file());
    auto cfg = std::make_shared<config::Config>();
    cfg->source_file = ctx.file();
    // The YAML reader takes no cluster without endpoints: such a cluster is
    // read with a stand-in, which is then taken out again.
    for (const auto& name : empty_clusters_)
      clusters_[name]["endpoints"].push_back(YAML::Load("{address: 192.0.2.1:9}"));
    config::MapReader r(own, doc, "");
    config::readResources(r, *cfg);
    r.finish();
    for (auto& la : cfg->load_assignments)
      if (empty_clusters_.count(la.cluster_name) != 0) la.endpoints.clear();
    if (own.ok()) attachTls(*cfg, trust_bundle_pem);
    // TLS is part of what the proxy gets (and of what tells a changed config
    // from an unchanged one), so it is written out too.
    if (!tls_text_.empty()) out_.yaml += "# tls, with the secrets of the mesh CA:\n" + tls_text_;
    if (!gateway_tls_text_.empty())
      out_.yaml += "# tls, with the operator's certificates (inline secrets):\n" + gateway_tls_text_;
    config::ParseContext checked(ctx.file(), config::References::WarnAndServe);
    if (own.ok()) config::validateResources(*cfg, checked);
    for (const auto& w : checked.warnings())
      if (w.message.find("'" + std::string(kCertificateSecret) + "'") == std::string::npos &&
          w.message.find("'" + std::string(kTrustBundleSecret) + "'") == std::string::npos)
        own.error(config::SourceLoc{w.line, w.column}, w.path, w.message);
    for (const auto& err : checked.errors()) own.error(config::SourceLoc{err.line, err.column}, err.path, err.message);
    for (const auto& err : own.errors())
      ctx.error(config::SourceLoc{err.line, err.column}, where + " (" + out_.group + "): " + err.path, err.message);
    out_.summary += summary_ + cluster_summary_;
    if (!own.ok()) return nullptr;
    return cfg;
  }

 private:
  struct InboundTls {
    MtlsMode mode;
  };
  struct OutboundTls {
    std::vector<std::string> spiffe_ids;
    bool h2 = false;
  };

  void inbound(const Workload& w, const PortBinding& b) {
    const Service* svc = mesh_.findService(w.ns, b.service);
    if (svc == nullptr || svc->findPort(b.port) == nullptr) return;  // reported by the reader
    const Protocol proto = svc->findPort(b.port)->protocol;
    const std::string name = inboundName(b);
    YAML::Node cluster = appCluster(name, proto);
    YAML::Node ep;
    ep["address"] = b.app.str();
    cluster["endpoints"].push_back(ep);
    clusters_[name] = cluster;

    std::string policy_note;
    listeners_.push_back(
        listenerOf(name, b.address.str(), inboundChain(w, b.service, b.port, proto, name, policy_note)));
    const MtlsMode mode = mesh_.mtlsFor(w);
    inbound_tls_[name] = InboundTls{mode};
    summary_ += "  listener " + name + "  " + b.address.str() + "  " + std::string(protocolName(proto)) + ", mTLS " +
                std::string(mtlsModeName(mode)) + policy_note + " -> app " + b.app.str() + "\n";
  }

  // A listener of one filter chain: its name and address first, for the reader of `check --full`.
  static YAML::Node listenerOf(const std::string& name, const std::string& address, const YAML::Node& chain) {
    YAML::Node listener;
    listener["name"] = name;
    listener["address"] = address;
    for (auto it = chain.begin(); it != chain.end(); ++it) listener[it->first.Scalar()] = it->second;
    return listener;
  }

  // A filter chain: its match first (none: it takes what no other chain does).
  static YAML::Node chainOf(const YAML::Node& match, const YAML::Node& body) {
    YAML::Node chain;
    if (match.size() > 0) chain["match"] = YAML::Clone(match);
    for (auto it = body.begin(); it != body.end(); ++it) chain[it->first.Scalar()] = YAML::Clone(it->second);
    return chain;
  }

  YAML::Node appCluster(const std::string& name, Protocol proto) {
    YAML::Node cluster;
    cluster["name"] = name;
    cluster["connect_timeout"] = "1s";
    if (proto == Protocol::Http2 || proto == Protocol::Grpc) cluster["protocol"] = "http2";
    return cluster;
  }

  // What mesh traffic to a service port meets in the workload's sidecar
  // (authorization, rate limits), then the app through cluster `cluster`:
  // the keys of a listener or of a filter chain.
  YAML::Node inboundChain(const Workload& w, const std::string& service, uint32_t port, Protocol proto,
                          const std::string& cluster, std::string& policy_note) {
    YAML::Node chain;
    std::optional<YAML::Node> authz = authorization(w, service, port);
    if (authz) {
      (*authz)["stat_prefix"] = w.name;
      const YAML::Node action = (*authz)["default_action"];
      policy_note = ", authz " + (action.IsDefined() ? action.Scalar() : std::string("allow")) + " by default";
    }
    if (isHttp(proto)) {
      YAML::Node http;
      http["codec"] = "auto";
      // The app learns who called: the verified peer's SPIFFE ID, never a
      // header a client wrote.
      http["forward_client_cert_details"] = "sanitize_set";
      if (authz) {
        YAML::Node f;
        f["authz"] = *authz;
        http["http_filters"].push_back(f);
      }
      for (const auto& rl : mesh_.rate_limits) {
        if (rl.ns != w.ns || (rl.workload != w.name && rl.service != service)) continue;
        for (const auto& [filter, settings] : rl.filters) {
          YAML::Node f;
          f[filter] = YAML::Clone(settings);
          http["http_filters"].push_back(f);
          policy_note += ", " + filter + " " + rl.name;
        }
      }
      YAML::Node route;
      route["match"]["prefix"] = "/";
      route["route"]["cluster"] = cluster;
      route["route"]["timeout"] = "0s";  // the caller's sidecar owns the request's timeout
      YAML::Node vh;
      vh["name"] = "inbound";
      vh["domains"].push_back("*");
      vh["routes"].push_back(route);
      http["route_config"]["virtual_hosts"].push_back(vh);
      chain["http"] = http;
    } else {
      if (authz) chain["authz"] = *authz;
      chain["tcp_proxy"]["cluster"] = cluster;
    }
    return chain;
  }

  // A captured workload's inbound traffic: one listener on the capture port,
  // a filter chain per port its endpoints take traffic on (the original
  // destination's port), each as an inbound binding's listener would be,
  // to the app on 127.0.0.1 at that port; traffic to any other port goes to
  // the app at its original destination, behind the same mTLS (as Istio's
  // inbound passthrough).
  void capturedInbound(const Workload& w) {
    struct Served {
      const Service* service;
      const ServicePort* port;
    };
    std::map<uint32_t, Served> served;  // by the port the workload takes it on
    for (const auto& s : mesh_.services) {
      if (s.ns != w.ns) continue;
      for (const auto& e : s.endpoints) {
        if (e.workload != w.name) continue;
        for (const auto& p : s.ports)
          if (e.port == 0 || e.port == p.port) served.emplace(e.address.port(), Served{&s, &p});
      }
    }
    const std::string name = "inbound_capture";
    // [::] is dual-stack: IPv4 and IPv6 traffic redirected by iptables and
    // ip6tables reach this one listener.
    const std::string address = "[::]:" + portName(mesh_.capture.inbound_port);
    const MtlsMode mode = mesh_.mtlsFor(w);
    YAML::Node listener;
    listener["name"] = name;
    listener["address"] = address;
    listener["use_original_dst"] = true;
    YAML::Node chains(YAML::NodeType::Sequence);
    auto addChains = [&](const YAML::Node& body, std::optional<uint32_t> port) {
      // PERMISSIVE is two chains: TLS with a client certificate, then plaintext.
      const bool tls = mode != MtlsMode::Disable;
      YAML::Node match(YAML::NodeType::Map);
      if (port) match["destination_port"] = *port;
      if (mode == MtlsMode::Permissive) match["transport_protocol"] = "tls";
      if (tls) chain_tls_.insert(name + "#" + std::to_string(chains.size()));
      chains.push_back(chainOf(match, body));
      if (mode == MtlsMode::Permissive) {
        match["transport_protocol"] = "raw_buffer";
        chains.push_back(chainOf(match, body));
      }
    };
    std::string lines;
    for (const auto& [port, s] : served) {
      // The app on the pod's loopback at the port the caller dialled:
      // replicas share this config, so the pod's own address cannot be
      // written into it, and a fixed cluster keeps the app's stats and
      // authorization per port (the passthrough below is original_dst).
      const std::string cluster = "inbound_" + portName(s.port->port) + "_" + s.service->name;
      YAML::Node c = appCluster(cluster, s.port->protocol);
      YAML::Node ep;
      ep["address"] = "127.0.0.1:" + portName(port);
      c["endpoints"].push_back(ep);
      clusters_[cluster] = c;
      std::string policy_note;
      addChains(inboundChain(w, s.service->name, s.port->port, s.port->protocol, cluster, policy_note), port);
      lines += "    port " + portName(port) + ": " + s.service->name + " " +
               std::string(protocolName(s.port->protocol)) + policy_note + " -> app at 127.0.0.1:" + portName(port) +
               "\n";
    }
    clusters_["inbound_passthrough"] = appCluster("inbound_passthrough", Protocol::Tcp);
    clusters_["inbound_passthrough"]["type"] = "original_dst";
    YAML::Node passthrough;
    passthrough["tcp_proxy"]["cluster"] = "inbound_passthrough";
    addChains(passthrough, std::nullopt);
    lines += "    any other port: tcp -> app at the original destination\n";
    listener["filter_chains"] = chains;
    listeners_.push_back(listener);
    summary_ += "  listener " + name + "  " + address + "  captured inbound by original destination, mTLS " +
                std::string(mtlsModeName(mode)) + "\n" + lines;
  }

  // A captured workload's outbound traffic: one listener on the capture
  // port, a filter chain per service address and port (as an outbound
  // binding's listener would be), then what is not the mesh's: passed
  // through to where it was going (ALLOW_ANY) or refused (REGISTRY_ONLY).
  void capturedOutbound() {
    const std::string name = "outbound_capture";
    const std::string address = "[::]:" + portName(mesh_.capture.outbound_port);  // dual-stack, as inbound
    YAML::Node listener;
    listener["name"] = name;
    listener["address"] = address;
    listener["use_original_dst"] = true;
    YAML::Node chains(YAML::NodeType::Sequence);
    std::string lines;
    for (const auto& s : mesh_.services) {
      if (s.addresses.empty()) continue;
      for (const auto& p : s.ports) {
        YAML::Node match;
        match["destination_port"] = p.port;
        for (const auto& a : s.addresses) match["prefix_ranges"].push_back(a);
        chains.push_back(chainOf(match, outboundChain(s, p.port, p.protocol)));
        lines += "    " + joined(s.addresses) + " port " + portName(p.port) + ": " + s.name + "." + s.ns + " " +
                 std::string(protocolName(p.protocol)) + "\n";
      }
    }
    if (mesh_.capture.allow_unknown_outbound) {
      YAML::Node passthrough;
      passthrough["tcp_proxy"]["cluster"] = "passthrough";
      chains.push_back(passthrough);
      YAML::Node c;
      c["name"] = "passthrough";
      c["connect_timeout"] = "1s";
      c["type"] = "original_dst";
      clusters_["passthrough"] = c;
      lines += "    anything else: passed through as tcp (ALLOW_ANY)\n";
    } else {
      lines += "    anything else: refused (REGISTRY_ONLY)\n";
    }
    if (chains.size() == 0) return;  // REGISTRY_ONLY and no service has an address: nothing to take
    listener["filter_chains"] = chains;
    listeners_.push_back(listener);
    summary_ += "  listener " + name + "  " + address + "  captured outbound by original destination\n" + lines;
  }

  // The workload's authorization policies as one authz filter: deny rules
  // first, then allow rules; denied by default when any policy says so.
  std::optional<YAML::Node> authorization(const Workload& w, const std::string& service, uint32_t port) {
    std::vector<const AuthorizationPolicy*> applying;
    for (const auto& ap : mesh_.authorization) {
      if (ap.ns != w.ns) continue;
      if (!ap.ports.empty() && std::find(ap.ports.begin(), ap.ports.end(), port) == ap.ports.end()) continue;
      if (ap.workload == w.name || (!ap.service.empty() && ap.service == service)) applying.push_back(&ap);
    }
    if (applying.empty()) return std::nullopt;
    if (applying.size() == 1) return YAML::Clone(applying[0]->policy);
    YAML::Node merged;
    bool deny_default = false;
    YAML::Node deny(YAML::NodeType::Sequence), allow(YAML::NodeType::Sequence);
    for (const auto* ap : applying) {
      const YAML::Node p = ap->policy;
      if (p["default_action"].IsDefined() && p["default_action"].Scalar() == "deny") deny_default = true;
      size_t i = 0;
      for (const auto& rule : p["rules"]) {
        YAML::Node copy = YAML::Clone(rule);
        copy["name"] = ap->name + "/" + (rule["name"].IsDefined() ? rule["name"].Scalar() : std::to_string(i));
        const bool is_deny = rule["action"].IsDefined() && rule["action"].Scalar() == "deny";
        (is_deny ? deny : allow).push_back(copy);
        ++i;
      }
    }
    merged["default_action"] = deny_default ? "deny" : "allow";
    YAML::Node rules(YAML::NodeType::Sequence);
    for (const auto& r : deny) rules.push_back(r);
    for (const auto& r : allow) rules.push_back(r);
    merged["rules"] = rules;
    return merged;
  }

  void outbound(const Workload& w, const PortBinding& b) {
    const Service* svc = mesh_.findService(w.ns, b.service);
    if (svc == nullptr || svc->findPort(b.port) == nullptr) return;
    const Protocol proto = svc->findPort(b.port)->protocol;
    const std::string name = "outbound_" + portName(b.port) + "_" + b.service;
    listeners_.push_back(listenerOf(name, b.address.str(), outboundChain(*svc, b.port, proto)));
    const RouteSet* rs = isHttp(proto) ? routeSetOf(*svc) : nullptr;
    summary_ += "  listener " + name + "  " + b.address.str() + "  plaintext " + std::string(protocolName(proto)) +
                " from the app" + faultNote(rs != nullptr ? faultRules(*rs) : 0) + "\n";
  }

  // The route set of traffic to a service; null: all of it goes to the service.
  const RouteSet* routeSetOf(const Service& svc) const {
    const RouteSet* rs = nullptr;
    for (const auto& candidate : mesh_.routes)
      if (candidate.service == svc.name && candidate.ns == svc.ns) rs = &candidate;
    return rs;
  }

  // How many of a route set's rules inject faults. The fault filter joins a
  // listener's chain (inert, `fault: {}`, before the router) only when one of
  // its routes has a fault to inject: a chain without one pays nothing per
  // request for it, and a mesh with no fault gets configs as before.
  static size_t faultRules(const RouteSet& rs) {
    return static_cast<size_t>(
        std::count_if(rs.rules.begin(), rs.rules.end(), [](const RouteRule& r) { return r.fault.IsMap(); }));
  }
  static YAML::Node faultFilter() {
    YAML::Node f;
    f["fault"] = YAML::Node(YAML::NodeType::Map);
    f["fault"].SetStyle(YAML::EmitterStyle::Flow);  // "fault: {}"
    return f;
  }
  static std::string faultNote(size_t rules) {
    return rules == 0 ? "" : ", fault injection on " + std::to_string(rules) + " route(s)";
  }

  // The app's traffic to a service port: routed by the service's route set
  // (or all to the service). The keys of a listener or of a filter chain.
  YAML::Node outboundChain(const Service& svc, uint32_t port, Protocol proto) {
    YAML::Node chain;
    if (isHttp(proto)) {
      const RouteSet* rs = routeSetOf(svc);
      YAML::Node vh;
      vh["name"] = svc.name;
      vh["domains"].push_back("*");
      if (rs != nullptr) {
        vh["routes"] = routes(*rs, &svc, port);
      } else {
        YAML::Node route;
        route["match"]["prefix"] = "/";
        route["route"]["cluster"] = cluster(ClusterKey{&svc, port, {}});
        vh["routes"].push_back(route);
      }
      chain["http"]["codec"] = "auto";
      if (rs != nullptr && faultRules(*rs) > 0) chain["http"]["http_filters"].push_back(faultFilter());
      chain["http"]["route_config"]["virtual_hosts"].push_back(vh);
    } else {
      chain["tcp_proxy"]["cluster"] = cluster(ClusterKey{&svc, port, {}});
    }
    return chain;
  }

  // A route set's rules as sluice routes. `to_service`/`port`: the service
  // the traffic was sent to (its port is the default of a destination in the
  // same service); null for a gateway.
  YAML::Node routes(const RouteSet& rs, const Service* to_service, uint32_t port) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& rule : rs.rules) {
      YAML::Node route;
      route["name"] = rule.name;
      route["match"] = YAML::Clone(rule.match);
      YAML::Node action;
      std::vector<std::pair<std::string, uint32_t>> targets;
      for (const auto& d : rule.to) {
        const Service* s = mesh_.findService(d.ns, d.service);
        if (s == nullptr || s->ports.empty()) continue;
        uint32_t p = d.port;
        if (p == 0) p = (to_service == s && port != 0) ? port : s->ports.front().port;
        targets.emplace_back(cluster(ClusterKey{s, p, d.subset}), d.weight);
      }
      if (targets.size() == 1) {
        action["cluster"] = targets[0].first;
      } else {
        for (const auto& [c, weight] : targets) {
          YAML::Node wc;
          wc["name"] = c;
          wc["weight"] = weight;
          action["weighted_clusters"].push_back(wc);
        }
      }
      for (const auto& [k, v] : rule.route_keys) action[k] = YAML::Clone(v);
      route["route"] = action;
      for (const auto& [k, v] : rule.entry_keys) route[k] = YAML::Clone(v);
      if (rule.fault.IsMap()) route["per_filter_config"]["fault"] = YAML::Clone(rule.fault);
      out.push_back(route);
    }
    return out;
  }

  // The cluster of a destination, made once per proxy; its name.
  std::string cluster(const ClusterKey& key) {
    const std::string name = key.name();
    if (clusters_.count(name) != 0) return name;
    const Protocol proto =
        key.service->findPort(key.port) != nullptr ? key.service->findPort(key.port)->protocol : Protocol::Http;
    YAML::Node c;
    c["name"] = name;
    c["connect_timeout"] = "1s";
    if (proto == Protocol::Http2 || proto == Protocol::Grpc) c["protocol"] = "http2";
    for (const auto& dp : mesh_.destinations)
      if (dp.service == key.service->name && dp.ns == key.service->ns)
        for (const auto& [k, v] : dp.cluster_keys) c[k] = YAML::Clone(v);
    std::set<std::string> ids;
    bool mtls = true;
    size_t endpoints = 0;
    for (const auto& e : key.service->endpoints) {
      if (e.port != 0 && e.port != key.port) continue;
      const Workload* w = e.workload.empty() ? nullptr : mesh_.findWorkload(key.service->ns, e.workload);
      if (!labelsMatch(w != nullptr ? w->labels : Labels{}, key.subset)) continue;
      YAML::Node ep;
      ep["address"] = e.address.str();
      if (e.weight != 1) ep["weight"] = e.weight;
      if (e.priority != 0) ep["priority"] = e.priority;
      if (!(e.locality == config::LocalityConfig{})) {
        YAML::Node loc;
        if (!e.locality.region.empty()) loc["region"] = e.locality.region;
        if (!e.locality.zone.empty()) loc["zone"] = e.locality.zone;
        if (!e.locality.sub_zone.empty()) loc["sub_zone"] = e.locality.sub_zone;
        loc.SetStyle(YAML::EmitterStyle::Flow);
        ep["locality"] = loc;
      }
      c["endpoints"].push_back(ep);
      ++endpoints;
      // Outside the mesh (no workload behind it), or a workload that takes
      // plaintext only: this cluster speaks plaintext.
      if (w == nullptr || mesh_.mtlsFor(*w) == MtlsMode::Disable)
        mtls = false;
      else
        ids.insert(mesh_.spiffeId(w->ns, w->service_account));
    }
    // A subset nothing matches (yet: a version scaled to zero) is a cluster
    // with no endpoints, whose requests get 503, not an error in the mesh.
    if (endpoints == 0) {
      c["endpoints"] = YAML::Node(YAML::NodeType::Sequence);
      empty_clusters_.insert(name);
    }
    clusters_[name] = c;
    std::string note = std::to_string(endpoints) + " endpoint(s), ";
    if (mtls && endpoints > 0) {
      outbound_tls_[name] = OutboundTls{{ids.begin(), ids.end()}, proto == Protocol::Http2 || proto == Protocol::Grpc};
      note += "mTLS verifying";
      for (const auto& id : ids) note += " " + id;
    } else {
      note += "plaintext";
    }
    cluster_summary_ += "  cluster " + name + "  " + note + "\n";
    return name;
  }

  void attachTls(config::Config& cfg, const std::string& trust_bundle_pem) {
    for (auto& l : cfg.listeners) {
      auto it = inbound_tls_.find(l.name);
      if (it == inbound_tls_.end() || it->second.mode == MtlsMode::Disable) continue;
      config::DownstreamTlsConfig tls;
      tls.certificates = {std::string(kCertificateSecret)};
      tls.validation_context = std::string(kTrustBundleSecret);
      tls.require_client_cert = true;
      tls.mode = it->second.mode == MtlsMode::Permissive ? config::DownstreamTlsConfig::Mode::Permissive
                                                         : config::DownstreamTlsConfig::Mode::Strict;
      tls.alpn.clear();
      if (!l.filters.empty() && l.filters.back().spec) tls.alpn = l.filters.back().spec->applicationProtocols();
      tls_text_ += "#   listener " + l.name + ": " + std::string(mtlsModeName(it->second.mode)) + ", certificate " +
                   tls.certificates[0] + ", client certificates verified by " + tls.validation_context + ", alpn " +
                   joined(tls.alpn) + "\n";
      l.tls = std::move(tls);
    }
    for (auto& l : cfg.listeners)
      for (size_t i = 0; i < l.filter_chains.size(); ++i) {
        if (chain_tls_.count(l.name + "#" + std::to_string(i)) == 0) continue;
        auto& chain = l.filter_chains[i];
        config::DownstreamTlsConfig tls;
        tls.certificates = {std::string(kCertificateSecret)};
        tls.validation_context = std::string(kTrustBundleSecret);
        tls.require_client_cert = true;
        tls.alpn.clear();
        if (!chain.filters.empty() && chain.filters.back().spec)
          tls.alpn = chain.filters.back().spec->applicationProtocols();
        tls_text_ += "#   listener " + l.name + " chain " + std::to_string(i) + ": certificate " + tls.certificates[0] +
                     ", client certificates verified by " + tls.validation_context + ", alpn " + joined(tls.alpn) +
                     "\n";
        chain.tls = std::move(tls);
      }
    for (auto& c : cfg.clusters) {
      auto it = outbound_tls_.find(c.name);
      if (it == outbound_tls_.end()) continue;
      config::UpstreamTlsConfig tls;
      tls.certificate = std::string(kCertificateSecret);
      tls.validation_context = std::string(kTrustBundleSecret);
      tls.verify_spiffe_ids = it->second.spiffe_ids;
      tls.alpn = {it->second.h2 ? "h2" : "http/1.1"};
      tls_text_ += "#   cluster " + c.name + ": certificate " + tls.certificate + ", server verified by " +
                   tls.validation_context + " as " + joined(tls.verify_spiffe_ids) + ", alpn " + joined(tls.alpn) +
                   "\n";
      c.tls = std::move(tls);
    }
    for (auto& l : cfg.listeners) {
      auto it = gateway_tls_.find(l.name);
      if (it == gateway_tls_.end()) continue;
      const GatewayTls& g = *it->second;
      config::DownstreamTlsConfig tls;
      for (size_t i = 0; i < g.certificates.size(); ++i) {
        config::SecretSpec cert;
        cert.name = gatewayCertificateSecret(l.name, i);
        cert.cert_chain = g.certificates[i].cert_pem;
        cert.private_key = g.certificates[i].key_pem;
        cert.inline_pem = true;
        tls.certificates.push_back(cert.name);
        cfg.secrets.push_back(std::move(cert));
      }
      if (g.mutual) {
        config::SecretSpec ca;
        ca.name = gatewayCaSecret(l.name);
        ca.kind = config::SecretSpec::Kind::ValidationContext;
        ca.trusted_ca = g.ca_pem;
        ca.inline_pem = true;
        tls.validation_context = ca.name;
        tls.require_client_cert = true;
        cfg.secrets.push_back(std::move(ca));
      }
      tls.alpn = g.alpn;
      tls.alpn_from_filter = false;
      gateway_tls_text_ += "#   listener " + l.name + ": " + std::string(gatewayTlsModeName(g)) + ", certificate " +
                           joined(tls.certificates) +
                           (g.mutual ? ", client certificates required, verified by " + tls.validation_context : "") +
                           ", alpn " + joined(tls.alpn) + "\n";
      l.tls = std::move(tls);
    }
    if (!trust_bundle_pem.empty()) {
      config::SecretSpec root;
      root.name = std::string(kTrustBundleSecret);
      root.kind = config::SecretSpec::Kind::ValidationContext;
      root.trusted_ca = trust_bundle_pem;
      root.inline_pem = true;
      cfg.secrets.push_back(std::move(root));
    }
  }

  const Mesh& mesh_;
  ProxyConfig& out_;
  YAML::Node listeners_{YAML::NodeType::Sequence};
  std::map<std::string, YAML::Node> clusters_;
  std::map<std::string, InboundTls> inbound_tls_;
  std::map<std::string, const GatewayTls*> gateway_tls_;  // by listener name
  std::set<std::string> chain_tls_;                       // "<listener>#<chain index>": mTLS required
  std::map<std::string, OutboundTls> outbound_tls_;
  std::set<std::string> empty_clusters_;
  std::string tls_text_;          // what attachTls attached, a comment line each
  std::string gateway_tls_text_;  // the same for gateway listeners
  std::string summary_;           // listeners
  std::string cluster_summary_;   // after them
};

// One proxy's config: a workload's sidecar or a gateway.
template <class Part>
ProxyConfig proxyConfig(const Mesh& mesh, const Part& part, ProxyConfig::Kind kind, const std::string& trust_bundle_pem,
                        config::ParseContext& ctx) {
  const std::string kind_name = kind == ProxyConfig::Kind::Sidecar ? "sidecar" : "gateway";
  ProxyConfig p;
  p.kind = kind;
  p.name = part.name;
  p.ns = part.ns;
  p.group = kind_name + "/" + part.ns + "/" + part.name;
  p.node_id = part.name + "." + part.ns;
  p.identity = mesh.spiffeId(part.ns, part.service_account);
  p.summary =
      kind_name + " " + part.ns + "/" + part.name + "  node.id " + p.node_id + "  identity " + p.identity + "\n";
  Builder b(mesh, p);
  if constexpr (std::is_same_v<Part, Workload>)
    b.sidecar(part);
  else
    b.gateway(part);
  p.config = b.finish(trust_bundle_pem, ctx, part.path);
  return p;
}

// The parts of the mesh a fingerprint looks up by service, gateway or
// namespace, each list in the mesh's order: made once per computation, not
// scanned for every binding of every proxy (a 2,000-workload mesh's
// fingerprints scanned its thousand route sets six million times).
class PartIndex {
 public:
  explicit PartIndex(const Mesh& mesh) {
    for (const auto& rs : mesh.routes) {
      if (!rs.service.empty()) routes_[key(rs.ns, rs.service)].push_back(&rs);
      for (const auto& g : rs.gateways) {
        auto& list = gateway_routes_[g];
        if (list.empty() || list.back() != &rs) list.push_back(&rs);
      }
    }
    for (const auto& dp : mesh.destinations) destinations_[key(dp.ns, dp.service)].push_back(&dp);
    for (const auto& ap : mesh.authorization) authorization_[ap.ns].push_back(&ap);
    for (const auto& rl : mesh.rate_limits) rate_limits_[rl.ns].push_back(&rl);
  }

  // The route sets of traffic to ns/service.
  const std::vector<const RouteSet*>& routes(const std::string& ns, const std::string& service) const {
    return find(routes_, key(ns, service));
  }
  // The route sets bound to a gateway.
  const std::vector<const RouteSet*>& gatewayRoutes(const std::string& gateway) const {
    return find(gateway_routes_, gateway);
  }
  const std::vector<const DestinationPolicy*>& destinations(const std::string& ns, const std::string& service) const {
    return find(destinations_, key(ns, service));
  }
  const std::vector<const AuthorizationPolicy*>& authorization(const std::string& ns) const {
    return find(authorization_, ns);
  }
  const std::vector<const RateLimitPolicy*>& rateLimits(const std::string& ns) const { return find(rate_limits_, ns); }

 private:
  static std::string key(const std::string& ns, const std::string& name) { return ns + '\0' + name; }
  template <class T>
  static const std::vector<const T*>& find(const std::unordered_map<std::string, std::vector<const T*>>& map,
                                           const std::string& k) {
    static const std::vector<const T*> kNone;
    auto it = map.find(k);
    return it == map.end() ? kNone : it->second;
  }

  std::unordered_map<std::string, std::vector<const RouteSet*>> routes_;
  std::unordered_map<std::string, std::vector<const RouteSet*>> gateway_routes_;
  std::unordered_map<std::string, std::vector<const DestinationPolicy*>> destinations_;
  std::unordered_map<std::string, std::vector<const AuthorizationPolicy*>> authorization_;
  std::unordered_map<std::string, std::vector<const RateLimitPolicy*>> rate_limits_;
};

// What a proxy's config is computed from, as the text of each part once.
// It must name everything Builder reads for that proxy.
class Fingerprint {
 public:
  Fingerprint(const Mesh& mesh, const PartIndex& parts, const std::string& trust_bundle_pem)
      : mesh_(mesh), parts_(parts) {
    text_ = mesh.trust_domain + "\x1f" + trust_bundle_pem + "\x1f";
    // Any workload's mode decides how its callers connect to it.
    for (const auto& pa : mesh.peer_authentication) add(pa.source, &pa);
  }

  void sidecar(const Workload& w) {
    add(w.source, &w);
    for (const auto& b : w.inbound) {
      if (const Service* s = mesh_.findService(w.ns, b.service)) add(s->source, s);
      for (const AuthorizationPolicy* ap : parts_.authorization(w.ns))
        if (ap->workload == w.name || ap->service == b.service) add(ap->source, ap);
      for (const RateLimitPolicy* rl : parts_.rateLimits(w.ns))
        if (rl->workload == w.name || rl->service == b.service) add(rl->source, rl);
    }
    for (const auto& b : w.outbound) {
      if (const Service* s = mesh_.findService(w.ns, b.service)) destination(*s);
      for (const RouteSet* rs : parts_.routes(w.ns, b.service)) routeSet(*rs);
    }
    if (w.captured) captured(w);
  }

  void gateway(const Gateway& g) {
    add(g.source, &g);
    // The TLS files' contents, which the YAML only names.
    for (const auto& l : g.listeners) {
      if (!l.tls) continue;
      for (const auto& c : l.tls->certificates) text_ += c.cert_pem + '\x1f' + c.key_pem + '\x1f';
      text_ += l.tls->ca_pem + '\x1f';
    }
    for (const RouteSet* rs : parts_.gatewayRoutes(g.name)) routeSet(*rs);
  }

  std::string take() { return std::move(text_); }

 private:
  // A captured sidecar serves what names it as an endpoint and calls every
  // service with an address.
  void captured(const Workload& w) {
    text_ += mesh_.capture.source;
    text_ += '\x1f';
    for (const auto& s : mesh_.services) {
      const bool serves = s.ns == w.ns && std::any_of(s.endpoints.begin(), s.endpoints.end(),
                                                      [&](const Endpoint& e) { return e.workload == w.name; });
      if (serves) {
        add(s.source, &s);
        for (const AuthorizationPolicy* ap : parts_.authorization(w.ns))
          if (ap->workload == w.name || ap->service == s.name) add(ap->source, ap);
        for (const RateLimitPolicy* rl : parts_.rateLimits(w.ns))
          if (rl->workload == w.name || rl->service == s.name) add(rl->source, rl);
      }
      if (s.addresses.empty()) continue;
      destination(s);
      for (const RouteSet* rs : parts_.routes(s.ns, s.name)) routeSet(*rs);
    }
  }

  void routeSet(const RouteSet& rs) {
    add(rs.source, &rs);
    for (const auto& rule : rs.rules)
      for (const auto& d : rule.to)
        if (const Service* s = mesh_.findService(d.ns, d.service)) destination(*s);
  }

  void destination(const Service& s) {
    add(s.source, &s);
    for (const auto& e : s.endpoints)
      if (const Workload* w = e.workload.empty() ? nullptr : mesh_.findWorkload(s.ns, e.workload)) add(w->source, w);
    for (const DestinationPolicy* dp : parts_.destinations(s.ns, s.name)) add(dp->source, dp);
  }

  void add(const std::string& source, const void* part) {
    if (std::find(seen_.begin(), seen_.end(), part) != seen_.end()) return;
    seen_.push_back(part);
    text_ += source;
    text_ += '\x1f';
  }

  const Mesh& mesh_;
  const PartIndex& parts_;
  std::string text_;
  // The parts added: a proxy reads tens of them, a scan is cheaper than a set.
  std::vector<const void*> seen_;
};

// The proxy from the cache when its parts are unchanged; else built anew
// (and cached when it built).
template <class BuildFn>
ProxyConfig cachedOrBuilt(ProxyConfigCache* cache, const std::string& group, std::string fingerprint, BuildFn&& build) {
  if (cache != nullptr) {
    auto it = cache->entries.find(group);
    if (it != cache->entries.end() && it->second.fingerprint == fingerprint) {
      ++cache->reused;
      return it->second.proxy;
    }
    ++cache->computed;
  }
  ProxyConfig p = build();
  if (cache != nullptr) {
    if (p.config)
      cache->entries[group] = ProxyConfigCache::Entry{std::move(fingerprint), p};
    else
      cache->entries.erase(group);
  }
  return p;
}

}  // namespace

std::string gatewayCertificateSecret(const std::string& listener, size_t index) {
  return listener + "_cert" + (index == 0 ? std::string() : "_" + std::to_string(index));
}

std::string gatewayCaSecret(const std::string& listener) { return listener + "_ca"; }

std::vector<ProxyConfig> computeProxyConfigs(const Mesh& mesh, const std::string& trust_bundle_pem,
                                             config::ParseContext& ctx, ProxyConfigCache* cache) {
  std::vector<ProxyConfig> out;
  std::set<std::string> groups;
  const PartIndex parts(mesh);
  for (const Workload& w : mesh.workloads) {
    Fingerprint fp(mesh, parts, trust_bundle_pem);
    fp.sidecar(w);
    const std::string group = "sidecar/" + w.ns + "/" + w.name;
    groups.insert(group);
    out.push_back(cachedOrBuilt(cache, group, fp.take(), [&] {
      return proxyConfig(mesh, w, ProxyConfig::Kind::Sidecar, trust_bundle_pem, ctx);
    }));
  }
  for (const Gateway& g : mesh.gateways) {
    Fingerprint fp(mesh, parts, trust_bundle_pem);
    fp.gateway(g);
    const std::string group = "gateway/" + g.ns + "/" + g.name;
    groups.insert(group);
    out.push_back(cachedOrBuilt(cache, group, fp.take(), [&] {
      return proxyConfig(mesh, g, ProxyConfig::Kind::Gateway, trust_bundle_pem, ctx);
    }));
  }
  if (cache != nullptr) std::erase_if(cache->entries, [&](const auto& e) { return groups.count(e.first) == 0; });
  return out;
}

}  // namespace sluice::control::mesh