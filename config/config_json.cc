#include "config/config_json.h"

#include "proxy/network/filter.h"

namespace sluice::config {

// Source locations and the file name are left out on purpose: a listener that
// only moved within the file (or to another file) has not changed.

nlohmann::json toJson(const Config& c) {
  nlohmann::json listeners = nlohmann::json::array();
  for (const auto& l : c.listeners) listeners.push_back(toJson(l));
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& cl : c.clusters) clusters.push_back(toJson(cl));
  return {{"admin", {{"address", c.admin.address.str()}}},
          {"workers", c.workers},
          {"drain_timeout", durationString(c.drain_timeout)},
          {"listeners", std::move(listeners)},
          {"clusters", std::move(clusters)}};
}

nlohmann::json toJson(const ListenerConfig& l) {
  nlohmann::json filters = nlohmann::json::array();
  for (const auto& f : l.filters)
    filters.push_back({{"name", f.name}, {"config", f.config ? f.config->toJson() : nlohmann::json()}});
  return {{"name", l.name},
          {"address", l.address.str()},
          {"max_connections", l.max_connections},
          {"per_connection_buffer_limit_bytes", l.per_connection_buffer_limit_bytes},
          {"filters", std::move(filters)}};
}

nlohmann::json toJson(const ClusterConfig& c) {
  nlohmann::json endpoints = nlohmann::json::array();
  for (const auto& e : c.endpoints) endpoints.push_back({{"address", e.address.str()}, {"weight", e.weight}});
  return {{"name", c.name},
          {"connect_timeout", durationString(c.connect_timeout)},
          {"lb_policy", c.lb_policy},
          {"max_connections_per_host", c.max_connections_per_host},
          {"max_pending_requests", c.max_pending_requests},
          {"idle_timeout", durationString(c.idle_timeout)},
          {"endpoints", std::move(endpoints)}};
}

std::string durationString(Duration d) {
  const auto ms = d.count();
  if (ms == 0) return "0s";
  struct Unit {
    Duration::rep ms;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{3600 * 1000, "h"}, {60 * 1000, "m"}, {1000, "s"}};
  for (const auto& u : kUnits)
    if (ms % u.ms == 0) return std::to_string(ms / u.ms) + u.suffix;
  return std::to_string(ms) + "ms";
}

}  // namespace sluice::config
