// The checks of a route table that need the whole config: clusters it sends
// to, and the per_filter_config entries against the listener's filters.
#include <algorithm>

#include "config/route_config.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

void validatePerFilterConfig(const PerFilterConfigs& list, const Config& whole, const std::string& at,
                             ParseContext& ctx, const std::vector<std::string>& chain, bool check_chain) {
  for (const auto& p : list) {
    const std::string path = at + "per_filter_config." + p.name;
    if (check_chain && std::find(chain.begin(), chain.end(), p.name) == chain.end()) {
      ctx.error(p.loc, path, "filter '" + p.name + "' is not in this listener's http_filters; add it there");
      continue;
    }
    if (p.spec) findHttpFilterReader(p.name)->validate(*p.spec, whole, path, ctx);
  }
}

}  // namespace

std::vector<std::string> RouteConfig::referencedClusters() const {
  std::vector<std::string> out;
  auto note = [&](const std::string& name) {
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  for (const auto& vh : virtual_hosts) {
    for (const auto& r : vh.routes) {
      if (!r.route) continue;
      note(r.route->cluster);
      for (const auto& w : r.route->weighted_clusters) note(w.name);
    }
  }
  return out;
}

void validateRouteConfig(const RouteConfig& rc, const Config& whole, std::string_view path, ParseContext& ctx,
                         const std::vector<std::string>& chain, bool check_chain) {
  const std::string base = path.empty() ? "" : std::string(path) + ".";
  for (size_t i = 0; i < rc.virtual_hosts.size(); ++i) {
    const std::string vat = base + "virtual_hosts[" + std::to_string(i) + "].";
    validatePerFilterConfig(rc.virtual_hosts[i].per_filter_config, whole, vat, ctx, chain, check_chain);
    const auto& routes = rc.virtual_hosts[i].routes;
    for (size_t j = 0; j < routes.size(); ++j) {
      validatePerFilterConfig(routes[j].per_filter_config, whole, vat + "routes[" + std::to_string(j) + "].", ctx,
                              chain, check_chain);
      if (!routes[j].route) continue;
      const RouteAction& a = *routes[j].route;
      const std::string at = vat + "routes[" + std::to_string(j) + "].route.";
      if (!a.cluster.empty() && whole.findCluster(a.cluster) == nullptr)
        ctx.missingReference(a.cluster_loc, at + "cluster", "unknown cluster '" + a.cluster + "'");
      for (size_t k = 0; k < a.weighted_clusters.size(); ++k) {
        const WeightedCluster& w = a.weighted_clusters[k];
        if (!w.name.empty() && whole.findCluster(w.name) == nullptr)
          ctx.missingReference(w.loc, at + "weighted_clusters[" + std::to_string(k) + "].name",
                               "unknown cluster '" + w.name + "'");
      }
    }
  }
}

}  // namespace sluice::config
