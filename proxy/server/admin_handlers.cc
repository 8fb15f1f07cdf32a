// The admin endpoints: what the main thread exposes about itself.
#include <nlohmann/json.hpp>

#include "config/config_json.h"
#include "proxy/server/server.h"

#include <set>

namespace sluice::server {
namespace {

admin::Response json(const nlohmann::json& j) { return {200, "application/json", j.dump(2) + "\n"}; }

const char* kIndex =
    "sluice admin\n"
    "  GET  /metrics      Prometheus metrics\n"
    "  GET  /ready        200 LIVE, or 503 DRAINING or OVERLOADED\n"
    "  GET  /config_dump  active config as JSON\n"
    "  GET  /clusters     hosts and their state\n"
    "  GET  /listeners    listeners and their bound addresses\n"
    "  GET  /certs        TLS certificates in use and their expiry\n"
    "  POST /certs/reload re-read every certificate and key file\n"
    "  POST /certs/rotate the certificate agent asks the CA for a new certificate now\n"
    "  POST /reload       reload the config file\n"
    "  POST /logs/reopen  reopen access log files (after logrotate moved them)\n"
    "  POST /drain        stop accepting, drain, exit\n";

}  // namespace

// `resources`: every resource the running config holds, with its type,
// version and origin ("xds" with the version of the response that carried
// it; "static" for the file's own); `xds`: the ADS source's per-type state
// (versions, subscriptions, the last NACK), when the config comes from one.
void Server::addResourceOrigins(nlohmann::json& dump) const {
  nlohmann::json status = source_ ? source_->status() : nlohmann::json();
  std::set<std::pair<std::string, std::string>> received;  // (type, name)
  nlohmann::json resources = nlohmann::json::array();
  if (status.is_object() && status.contains("resources")) {
    for (const auto& r : status["resources"]) {
      received.emplace(r["type"].get<std::string>(), r["name"].get<std::string>());
      resources.push_back(r);
    }
    status.erase("resources");
  }
  const auto& cfg = *current_->config;
  auto add = [&](const char* type, const std::string& name) {
    if (received.count({type, name})) return;
    resources.push_back({{"name", name}, {"type", type}, {"version", "static"}, {"origin", "static"}});
  };
  for (const auto& l : cfg.listeners) add("Listener", l.name);
  for (const auto& r : cfg.route_configs) add("RouteConfiguration", r.name);
  for (const auto& c : cfg.clusters) add("Cluster", c.name);
  for (const auto& a : cfg.load_assignments) add("ClusterLoadAssignment", a.cluster_name);
  for (const auto& sec : cfg.secrets) add("Secret", sec.name);
  dump["resources"] = std::move(resources);
  if (!status.is_null()) dump["xds"] = std::move(status);
}

admin::Response Server::handleAdmin(const admin::Request& req) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";
  if (req.path == "/") return {200, "text/plain; charset=utf-8", kIndex};
  if (req.path == "/metrics" && get) {
    values_.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return {200, "text/plain; version=0.0.4; charset=utf-8",
            admin::renderMetrics(*stats_, values_, upstreamValues(), overloadValues())};
  }
  if (req.path == "/ready" && get) {
    if (values_.draining) return {503, "text/plain; charset=utf-8", "DRAINING\n"};
    // An orchestrator should send traffic elsewhere while listeners take none.
    if (overload_->state().active(config::OverloadAction::StopAccepting))
      return {503, "text/plain; charset=utf-8", "OVERLOADED: " + overloadReason() + "\n"};
    return {200, "text/plain; charset=utf-8", "LIVE\n"};
  }
  if (req.path == "/config_dump" && get) {
    auto j = config::toJson(*current_->config);
    j["version"] = current_->version;
    addResourceOrigins(j);
    return json(j);
  }
  if (req.path == "/clusters" && get) return {200, "text/plain; charset=utf-8", renderClusters()};
  if (req.path == "/listeners" && get) return {200, "application/json", renderListeners()};
  if (req.path == "/reload" && post) {
    auto r = reload();
    return {r.ok ? 200 : 400, "text/plain; charset=utf-8", r.message};
  }
  if (req.path == "/certs" && get) return {200, "application/json", renderCerts()};
  if (req.path == "/certs/reload" && post) {
    auto r = reloadCertificates();
    return {r.ok ? 200 : 400, "text/plain; charset=utf-8", r.message};
  }
  if (req.path == "/certs/rotate" && post) return rotateAgentCertificate();
  if (req.path == "/logs/reopen" && post) {
    auto r = reopenLogs();
    return {r.ok ? 200 : 500, "text/plain; charset=utf-8", r.message};
  }
  if (req.path == "/drain" && post) {
    startDrain();
    return {200, "text/plain; charset=utf-8", "draining\n"};
  }
  if (req.path == "/reload" || req.path == "/drain" || req.path == "/metrics" || req.path == "/ready" ||
      req.path == "/config_dump" || req.path == "/clusters" || req.path == "/listeners" || req.path == "/certs" ||
      req.path == "/certs/reload" || req.path == "/certs/rotate" || req.path == "/logs/reopen")
    return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  return {404, "text/plain; charset=utf-8", std::string("not found\n") + kIndex};
}

admin::UpstreamValues Server::upstreamValues() const {
  admin::UpstreamValues v;
  for (const auto& c : current_->config->clusters) {
    const auto& refs = current_->cluster_stats.at(c.name);
    const auto* monitor = monitors_.count(c.name) ? monitors_.at(c.name).get() : nullptr;
    const auto& endpoints = current_->config->endpointsOf(c);
    std::set<std::string> seen;  // a repeated address is one server: one series
    for (size_t i = 0; i < endpoints.size(); ++i) {
      if (!seen.insert(endpoints[i].address.str()).second) continue;
      admin::HostHealthValue h;
      h.cluster = c.name;
      h.host = endpoints[i].address.str();
      h.healthy = refs.host_shared[i]->usable();
      if (monitor && i < monitor->hostCount()) {
        const auto view = monitor->view(i);
        h.active_check_healthy = view.active_healthy;
        h.breaker = upstream::breakerStateName(view.breaker);
        h.ejections = view.ejections;
        h.checks_ok = view.checks.successes;
        h.checks_failed = view.checks.failures;
        h.checks_timed_out = view.checks.timeouts;
      }
      v.hosts.push_back(std::move(h));
    }
    for (auto prio : {upstream::RoutingPriority::Normal, upstream::RoutingPriority::High}) {
      const auto& g = refs.shared->breakers(prio);
      const auto& t = prio == upstream::RoutingPriority::High ? c.circuit_breakers.high : c.circuit_breakers.normal;
      const char* p = upstream::routingPriorityName(prio);
      if (prio == upstream::RoutingPriority::Normal)  // connections are shared by both priorities
        v.breakers.push_back({c.name, p, "connections", g.connections.active(), t.max_connections});
      v.breakers.push_back({c.name, p, "pending_requests", g.pending.active(), t.max_pending_requests});
      v.breakers.push_back({c.name, p, "requests", g.requests.active(), t.max_requests});
      v.breakers.push_back({c.name, p, "retries", g.retries.active(), upstream::retryLimit(t, g)});
    }
  }
  return v;
}

std::string Server::renderClusters() const {
  // Envoy's text layout: cluster::host::field::value, one per line.
  std::string out;
  const auto up = upstreamValues();
  for (const auto& b : up.breakers)
    out += b.cluster + "::circuit_breakers::" + b.priority + "::" + b.resource + "::" + std::to_string(b.active) +
           "/" + std::to_string(b.limit) + "\n";
  size_t flat = 0;  // index into up.hosts (clusters and distinct addresses in config order)
  for (const auto& c : current_->config->clusters) {
    std::set<std::string> seen;
    out += c.name + "::lb_policy::" + std::string(config::lbPolicyName(c.lb_policy)) + "\n";
    const auto& refs = current_->cluster_stats.at(c.name);
    const auto* monitor = monitors_.count(c.name) ? monitors_.at(c.name).get() : nullptr;
    const auto& endpoints = current_->config->endpointsOf(c);
    for (size_t i = 0; i < endpoints.size(); ++i) {
      if (!seen.insert(endpoints[i].address.str()).second) continue;
      const auto& h = up.hosts[flat++];
      const std::string prefix = c.name + "::" + h.host + "::";
      const auto& hs = *refs.hosts[i];
      out += prefix + "weight::" + std::to_string(endpoints[i].weight) + "\n";
      out += prefix + "priority::" + std::to_string(endpoints[i].priority) + "\n";
      out += prefix + "cx_active::" + std::to_string(hs.sum(&stats::HostStats::cx_active)) + "\n";
      out += prefix + "cx_total::" + std::to_string(hs.sum(&stats::HostStats::cx_total)) + "\n";
      out += prefix + "cx_connect_fail::" + std::to_string(hs.sum(&stats::HostStats::cx_connect_fail)) + "\n";
      out += prefix + "rq_active::" + std::to_string(hs.sum(&stats::HostStats::rq_active)) + "\n";
      out += prefix + "rq_total::" + std::to_string(hs.sum(&stats::HostStats::rq_total)) + "\n";
      out += prefix + "rq_error::" + std::to_string(hs.sum(&stats::HostStats::rq_error)) + "\n";
      // Envoy-style flags: healthy, or why not (/failed_active_hc, /failed_outlier_check).
      std::string flags;
      if (!h.active_check_healthy) flags += "/failed_active_hc";
      if (std::string_view(h.breaker) == "open") flags += "/failed_outlier_check";
      out += prefix + "health_flags::" + (flags.empty() ? "healthy" : flags) + "\n";
      out += prefix + "breaker::" + h.breaker + "\n";
      out += prefix + "ejections::" + std::to_string(h.ejections) + "\n";
      if (monitor && i < monitor->hostCount()) {
        const auto view = monitor->view(i);
        if (view.last_cause) out += prefix + "last_ejection_cause::" + upstream::ejectCauseName(*view.last_cause) + "\n";
        if (view.ejected_ms_left > 0)
          out += prefix + "ejected_ms_left::" + std::to_string(view.ejected_ms_left) + "\n";
        if (monitor->hasActiveCheck())
          out += prefix + "health_checks::" + std::to_string(view.checks.successes) + " ok, " +
                 std::to_string(view.checks.failures) + " failed\n";
      }
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
