// The admin endpoints: what the main thread exposes about itself.
#include <nlohmann/json.hpp>

#include "config/config_json.h"
#include "proxy/server/server.h"

namespace sluice::server {
namespace {

admin::Response json(const nlohmann::json& j) { return {200, "application/json", j.dump(2) + "\n"}; }

const char* kIndex =
    "sluice admin\n"
    "  GET  /metrics      Prometheus metrics\n"
    "  GET  /ready        200 LIVE, or 503 DRAINING\n"
    "  GET  /config_dump  active config as JSON\n"
    "  GET  /clusters     hosts and their state\n"
    "  GET  /listeners    listeners and their bound addresses\n"
    "  POST /reload       reload the config file\n"
    "  POST /drain        stop accepting, drain, exit\n";

}  // namespace

admin::Response Server::handleAdmin(const admin::Request& req) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";
  if (req.path == "/") return {200, "text/plain; charset=utf-8", kIndex};
  if (req.path == "/metrics" && get) {
    values_.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return {200, "text/plain; version=0.0.4; charset=utf-8", admin::renderMetrics(*stats_, values_)};
  }
  if (req.path == "/ready" && get) {
    if (values_.draining) return {503, "text/plain; charset=utf-8", "DRAINING\n"};
    return {200, "text/plain; charset=utf-8", "LIVE\n"};
  }
  if (req.path == "/config_dump" && get) {
    auto j = config::toJson(*current_->config);
    j["version"] = current_->version;
    return json(j);
  }
  if (req.path == "/clusters" && get) return {200, "text/plain; charset=utf-8", renderClusters()};
  if (req.path == "/listeners" && get) return {200, "application/json", renderListeners()};
  if (req.path == "/reload" && post) {
    auto r = reload();
    return {r.ok ? 200 : 400, "text/plain; charset=utf-8", r.message};
  }
  if (req.path == "/drain" && post) {
    startDrain();
    return {200, "text/plain; charset=utf-8", "draining\n"};
  }
  if (req.path == "/reload" || req.path == "/drain" || req.path == "/metrics" || req.path == "/ready" ||
      req.path == "/config_dump" || req.path == "/clusters" || req.path == "/listeners")
    return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  return {404, "text/plain; charset=utf-8", std::string("not found\n") + kIndex};
}

std::string Server::renderClusters() const {
  // Envoy's text layout: cluster::host::field::value, one per line.
  std::string out;
  for (const auto& c : current_->config->clusters) {
    out += c.name + "::lb_policy::" + c.lb_policy + "\n";
    const auto& refs = current_->cluster_stats.at(c.name);
    for (size_t i = 0; i < c.endpoints.size(); ++i) {
      const std::string prefix = c.name + "::" + c.endpoints[i].address.str() + "::";
      const auto& hs = *refs.hosts[i];
      out += prefix + "weight::" + std::to_string(c.endpoints[i].weight) + "\n";
      out += prefix + "cx_active::" + std::to_string(hs.sum(&stats::HostStats::cx_active)) + "\n";
      out += prefix + "cx_total::" + std::to_string(hs.sum(&stats::HostStats::cx_total)) + "\n";
      out += prefix + "cx_connect_fail::" + std::to_string(hs.sum(&stats::HostStats::cx_connect_fail)) + "\n";
      // Active health checking arrives with the upstream-cluster work; until then every host is eligible.
      out += prefix + "health_flags::healthy\n";
    }
  }
  return out;
}

std::string Server::renderListeners() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : current_->sockets) arr.push_back({{"name", s->name}, {"address", s->bound.str()}});
  return arr.dump(2) + "\n";
}

}  // namespace sluice::server
