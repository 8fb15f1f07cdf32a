#include "proxy/admin/metrics.h"

#include "proxy/stats/named_counters.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <limits>
#include <sstream>
#include <vector>

namespace sluice::admin {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

ClientMetric sample(double value, bool gauge, std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  if (gauge) {
    m.gauge.value = value;
  } else {
    m.counter.value = value;
  }
  return m;
}

// One family per field of Block, one sample per scope (labelled by `label`).
template <class Block, class Map, class LabelsOf>
void addScope(std::vector<MetricFamily>& out, const std::string& prefix, const Map& scopes, LabelsOf labels_of) {
  for (const auto& field : Block::fields()) {
    MetricFamily fam;
    fam.name = prefix + field.name;
    fam.help = field.help;
    fam.type = field.gauge ? MetricType::Gauge : MetricType::Counter;
    for (const auto& [key, per_worker] : scopes)
      fam.metric.push_back(sample(static_cast<double>(per_worker->sum(field.member)), field.gauge, labels_of(key)));
    if (!fam.metric.empty()) out.push_back(std::move(fam));
  }
}

MetricFamily single(const std::string& name, const std::string& help, bool gauge, double value,
                    std::vector<ClientMetric::Label> labels = {}) {
  MetricFamily fam;
  fam.name = name;
  fam.help = help;
  fam.type = gauge ? MetricType::Gauge : MetricType::Counter;
  fam.metric.push_back(sample(value, gauge, std::move(labels)));
  return fam;
}

void addUpstream(std::vector<MetricFamily>& families, const UpstreamValues& up) {
  auto family = [](const char* name, const char* help, MetricType type) {
    MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
  };
  auto healthy = family("sluice_host_healthy", "1 when the host takes traffic (not failed by checks, not ejected)",
                        MetricType::Gauge);
  auto checked = family("sluice_host_active_check_healthy", "1 unless active health checks failed the host",
                        MetricType::Gauge);
  auto breaker = family("sluice_host_breaker_state", "Host circuit breaker: 1 on the current state",
                        MetricType::Gauge);
  auto ejections = family("sluice_host_ejections_total", "Times outlier detection ejected the host",
                          MetricType::Counter);
  auto checks = family("sluice_host_health_checks_total", "Active health checks by result", MetricType::Counter);
  for (const auto& h : up.hosts) {
    const std::vector<ClientMetric::Label> labels{{"cluster", h.cluster}, {"host", h.host}};
    healthy.metric.push_back(sample(h.healthy ? 1 : 0, true, labels));
    checked.metric.push_back(sample(h.active_check_healthy ? 1 : 0, true, labels));
    for (const char* state : {"closed", "open", "half_open"}) {
      auto l = labels;
      l.push_back({"state", state});
      breaker.metric.push_back(sample(std::string_view(state) == h.breaker ? 1 : 0, true, std::move(l)));
    }
    ejections.metric.push_back(sample(static_cast<double>(h.ejections), false, labels));
    const std::pair<const char*, uint64_t> results[] = {{"success", h.checks_ok},
                                                        {"failure", h.checks_failed - h.checks_timed_out},
                                                        {"timeout", h.checks_timed_out}};
    for (const auto& [result, n] : results) {
      auto l = labels;
      l.push_back({"result", result});
      checks.metric.push_back(sample(static_cast<double>(n), false, std::move(l)));
    }
  }
  auto active = family("sluice_cluster_circuit_breaker_active", "Slots in use of each cluster-wide limit",
                       MetricType::Gauge);
  auto limit = family("sluice_cluster_circuit_breaker_limit", "Each cluster-wide limit", MetricType::Gauge);
  auto open = family("sluice_cluster_circuit_breaker_open", "1 while a cluster-wide limit is reached",
                     MetricType::Gauge);
  for (const auto& b : up.breakers) {
    const std::vector<ClientMetric::Label> labels{
        {"cluster", b.cluster}, {"priority", b.priority}, {"resource", b.resource}};
    active.metric.push_back(sample(static_cast<double>(b.active), true, labels));
    limit.metric.push_back(sample(static_cast<double>(b.limit), true, labels));
    open.metric.push_back(sample(b.active >= static_cast<int64_t>(b.limit) ? 1 : 0, true, labels));
  }
  for (auto* f : {&healthy, &checked, &breaker, &ejections, &checks, &active, &limit, &open})
    if (!f->metric.empty()) families.push_back(std::move(*f));
}

void addOverload(std::vector<MetricFamily>& families, const OverloadValues& ov) {
  auto family = [](const char* name, const char* help, MetricType type) {
    MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
  };
  auto pressure = family("sluice_overload_resource_pressure", "Use of a watched resource over its max (1 = at the max)",
                         MetricType::Gauge);
  auto used = family("sluice_overload_resource_used", "Use of a watched resource as last sampled (connections, bytes)",
                     MetricType::Gauge);
  auto max = family("sluice_overload_resource_max", "The max a watched resource's pressure is measured against",
                    MetricType::Gauge);
  for (const auto& r : ov.resources) {
    const std::vector<ClientMetric::Label> labels{{"resource", r.resource}};
    pressure.metric.push_back(sample(r.pressure, true, labels));
    used.metric.push_back(sample(static_cast<double>(r.used), true, labels));
    max.metric.push_back(sample(static_cast<double>(r.max), true, labels));
  }
  auto active = family("sluice_overload_action_active", "1 while the overload action is in force", MetricType::Gauge);
  auto activations = family("sluice_overload_action_activations_total", "Times the overload action came into force",
                            MetricType::Counter);
  for (const auto& a : ov.actions) {
    const std::vector<ClientMetric::Label> labels{{"action", a.action}};
    active.metric.push_back(sample(a.active ? 1 : 0, true, labels));
    activations.metric.push_back(sample(static_cast<double>(a.activations), false, labels));
  }
  for (auto* f : {&pressure, &used, &max, &active, &activations})
    if (!f->metric.empty()) families.push_back(std::move(*f));
}

// Filters' named counters: one family per name (the registry is sorted by name).
void addNamedCounters(std::vector<MetricFamily>& families) {
  stats::forEachNamedCounter([&](const stats::NamedCounterView& c) {
    if (families.empty() || families.back().name != c.name) {
      MetricFamily fam;
      fam.name = c.name;
      fam.help = c.help;
      fam.type = c.gauge ? MetricType::Gauge : MetricType::Counter;
      families.push_back(std::move(fam));
    }
    std::vector<ClientMetric::Label> labels;
    for (const auto& [k, v] : c.labels) labels.push_back({k, v});
    families.back().metric.push_back(sample(static_cast<double>(c.value), c.gauge, std::move(labels)));
  });
}

}  // namespace

std::string renderMetrics(const stats::StatsStore& store, const ServerValues& server, const UpstreamValues& upstream,
                          const OverloadValues& overload) {
  std::vector<MetricFamily> families;
  addScope<stats::ListenerStats>(families, "sluice_listener_", store.listeners(), [](const std::string& k) {
    return std::vector<ClientMetric::Label>{{"listener", k}};
  });
  addScope<stats::ClusterStats>(families, "sluice_cluster_", store.clusters(), [](const std::string& k) {
    return std::vector<ClientMetric::Label>{{"cluster", k}};
  });
  addScope<stats::RouteStats>(families, "sluice_route_", store.routes(), [](const std::string& k) {
    // Route config names have no '/' (readName); route names may ("vhost/0").
    const auto slash = k.find('/');
    return std::vector<ClientMetric::Label>{{"route_config", k.substr(0, slash)}, {"route", k.substr(slash + 1)}};
  });
  addScope<stats::HostStats>(families, "sluice_host_", store.hosts(), [](const std::string& k) {
    const auto slash = k.rfind('/');
    return std::vector<ClientMetric::Label>{{"cluster", k.substr(0, slash)}, {"host", k.substr(slash + 1)}};
  });

  // Upstream request duration per cluster: buckets summed over workers.
  MetricFamily hist;
  hist.name = "sluice_cluster_upstream_rq_time_ms";
  hist.help = "Time from the request's first byte to the last response byte, per cluster";
  hist.type = MetricType::Histogram;
  for (const auto& [name, per_worker] : store.clusters()) {
    int64_t counts[stats::Histogram::kBuckets + 1] = {};
    double sum = 0;
    per_worker->forEachBlock([&](const stats::ClusterStats& b) {
      for (size_t i = 0; i <= stats::Histogram::kBuckets; ++i) counts[i] += b.upstream_rq_time.count(i);
      sum += b.upstream_rq_time.sumMs();
    });
    ClientMetric m;
    m.label = {{"cluster", name}};
    uint64_t cumulative = 0;
    for (size_t i = 0; i < stats::Histogram::kBuckets; ++i) {
      cumulative += static_cast<uint64_t>(counts[i]);
      m.histogram.bucket.push_back({cumulative, stats::Histogram::kBoundsMs[i]});
    }
    cumulative += static_cast<uint64_t>(counts[stats::Histogram::kBuckets]);
    m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = sum;
    hist.metric.push_back(std::move(m));
  }
  if (!hist.metric.empty()) families.push_back(std::move(hist));

  // gRPC calls per route by status; only the statuses seen.
  MetricFamily grpc;
  grpc.name = "sluice_route_grpc_rq_total";
  grpc.help = "gRPC calls answered on the route, by grpc-status";
  grpc.type = MetricType::Counter;
  for (const auto& [key, per_worker] : store.routes()) {
    int64_t counts[stats::RouteStats::kGrpcStatuses] = {};
    per_worker->forEachBlock([&](const stats::RouteStats& b) {
      for (size_t i = 0; i < stats::RouteStats::kGrpcStatuses; ++i) counts[i] += b.grpc[i].value();
    });
    const auto slash = key.find('/');
    for (size_t i = 0; i < stats::RouteStats::kGrpcStatuses; ++i) {
      if (counts[i] == 0) continue;
      grpc.metric.push_back(sample(static_cast<double>(counts[i]), false,
                                   {{"route_config", key.substr(0, slash)},
                                    {"route", key.substr(slash + 1)},
                                    {"grpc_status", std::to_string(i)}}));
    }
  }
  if (!grpc.metric.empty()) families.push_back(std::move(grpc));

  MetricFamily reloads;
  reloads.name = "sluice_server_config_reloads_total";
  reloads.help = "Config reloads by result";
  reloads.type = MetricType::Counter;
  reloads.metric.push_back(sample(static_cast<double>(server.reloads_ok), false, {{"result", "ok"}}));
  reloads.metric.push_back(sample(static_cast<double>(server.reloads_failed), false, {{"result", "failed"}}));
  families.push_back(std::move(reloads));
  families.push_back(single("sluice_server_config_version", "Version of the active config (1 = the first loaded)",
                            true, static_cast<double>(server.config_version)));
  families.push_back(single("sluice_server_draining", "1 while the server drains before exit", true,
                            server.draining ? 1 : 0));
  families.push_back(single("sluice_server_workers", "Worker threads", true, static_cast<double>(server.workers)));
  families.push_back(single("sluice_server_uptime_seconds", "Seconds since start", true, server.uptime_seconds));
  addUpstream(families, upstream);
  addOverload(families, overload);
  addNamedCounters(families);

  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace sluice::admin
