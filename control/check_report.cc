#include "control/check_report.h"

namespace sluice::control {

std::string checkReport(const ControlConfig& cfg, bool full) {
  std::string out;
  for (const auto& g : cfg.groups) {
    if (!g.match.mesh_node_id.empty() || !g.config) continue;
    out += "group " + g.name + "  match " +
           (g.match.cluster.empty() ? "node.id in " + std::to_string(g.match.node_ids.size()) + " id(s)"
                                    : "node.cluster " + g.match.cluster) +
           "\n";
    for (const auto& l : g.config->listeners) out += "  listener " + l.name + "  " + l.address.str() + "\n";
    for (const auto& c : g.config->clusters) out += "  cluster " + c.name + "\n";
    for (const auto& r : g.config->route_configs) out += "  route table " + r.name + "\n";
  }
  if (cfg.mesh) {
    out += "mesh: trust domain " + cfg.mesh->trust_domain + ", " + std::to_string(cfg.mesh->services.size()) +
           " service(s), " + std::to_string(cfg.mesh->workloads.size()) + " workload(s), " +
           std::to_string(cfg.mesh->gateways.size()) + " gateway(s)" +
           (cfg.ca ? "; certificates from the CA" : "; no ca: block, so no proxy can get a certificate") + "\n";
    for (const auto& p : cfg.mesh_proxies) {
      out += p.summary;
      if (full) {
        out += "  ---\n";
        for (size_t at = 0, nl; at < p.yaml.size(); at = nl + 1) {
          nl = p.yaml.find('\n', at);
          if (nl == std::string::npos) nl = p.yaml.size();
          out += "  " + p.yaml.substr(at, nl - at) + "\n";
        }
      }
    }
  }
  return out;
}

}  // namespace sluice::control
