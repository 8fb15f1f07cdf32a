#include "config/cluster_reader.h"

#include "config/http2_settings.h"
#include "config/tls_reader.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace sluice::config {
namespace {

// `protocol: http1 | http2 | auto`, and HTTP/2's settings. A TLS cluster
// speaking HTTP/2 offers h2 by ALPN, an auto one h2 then http/1.1, unless its
// tls block names protocols itself. Auto without TLS is HTTP/1.1, as in
// Envoy: a plaintext upstream has no ALPN to answer with.
void readProtocol(MapReader& r, ClusterConfig& c) {
  if (r.has("protocol")) {
    std::string p;
    r.string("protocol", p);
    if (p == "http1") c.protocol = UpstreamProtocol::Http1;
    else if (p == "http2") c.protocol = UpstreamProtocol::Http2;
    else if (p == "auto") c.protocol = UpstreamProtocol::Auto;
    else if (r.child("protocol").IsScalar())
      r.ctx().error(r.locOf("protocol"), r.childPath("protocol"), "must be http1, http2 or auto");
  }
  readHttp2Settings(r, "http2", c.http2);
  if (c.protocol == UpstreamProtocol::Http2 && c.tls && c.tls->alpn.empty()) c.tls->alpn = {"h2"};
  if (c.protocol == UpstreamProtocol::Auto && c.tls && c.tls->alpn.empty()) c.tls->alpn = {"h2", "http/1.1"};
}

// An HTTP/2 check (http with codec http2, or grpc) of a TLS cluster reaches
// its host only if the cluster's connections offer h2.
void checkHealthCheckAlpn(MapReader& r, const ClusterConfig& c) {
  if (!c.health_check || !c.tls) return;
  const auto& hc = *c.health_check;
  const bool h2 = hc.grpc || (hc.http && hc.http->codec == HealthCheckConfig::Codec::Http2);
  if (!h2 || std::find(c.tls->alpn.begin(), c.tls->alpn.end(), "h2") != c.tls->alpn.end()) return;
  MapReader hr(r.ctx(), r.child("health_check"), r.childPath("health_check"));
  const std::string_view key = hc.grpc ? "grpc" : "http";
  r.ctx().error(hr.locOf(key), hr.childPath(key),
                "an HTTP/2 check of a TLS cluster needs h2 in tls.alpn (protocol http2 and auto offer it)");
}

constexpr std::pair<LbPolicy, std::string_view> kLbPolicies[] = {{LbPolicy::RoundRobin, "round_robin"},
                                                                   {LbPolicy::LeastRequest, "least_request"},
                                                                   {LbPolicy::Random, "random"},
                                                                   {LbPolicy::RingHash, "ring_hash"},
                                                                   {LbPolicy::Maglev, "maglev"}};

void positive(MapReader& r, std::string_view key, Duration d) {
  if (r.has(key) && d <= Duration::zero()) r.ctx().error(r.locOf(key), r.childPath(key), "must be greater than 0");
}

// An optional sub-block that switches a feature on: absent = off; empty
// (`tcp:` or `tcp: {}`) = on with defaults; a mapping = on with its fields.
// fn gets the block's reader, or null for an empty one.
template <class Fn>
void block(MapReader& r, std::string_view key, Fn&& fn) {
  const YAML::Node n = r.child(key);
  if (!n.IsDefined()) return;
  if (n.IsNull()) {
    fn(static_cast<MapReader*>(nullptr));
    return;
  }
  MapReader br(r.ctx(), n, r.childPath(key));
  if (!br.isMap()) return;
  fn(&br);
  br.finish();
}

// `type: endpoints` (the default) or `original_dst`. An original_dst
// cluster's host is where each client was going: there is nothing to list,
// check or balance, so those keys are refused rather than ignored; its own
// keys (use_http_header, cleanup_interval) are refused on other clusters.
void readClusterType(MapReader& r, ClusterConfig& c) {
  if (r.has("type")) {
    std::string type;
    r.string("type", type);
    if (type == "original_dst") c.type = ClusterType::OriginalDst;
    else if (type == "endpoints") c.type = ClusterType::Endpoints;
    else if (r.child("type").IsScalar())
      r.ctx().error(r.locOf("type"), r.childPath("type"), "must be endpoints or original_dst");
  }
  auto refuse = [&](std::initializer_list<std::string_view> keys, const std::string& why) {
    for (std::string_view key : keys) {
      if (!r.has(key)) continue;
      r.child(key);  // reported here, not as unknown
      r.ctx().error(r.locOf(key), r.childPath(key), why + std::string(key));
    }
  };
  if (c.type != ClusterType::OriginalDst) {
    refuse({"use_http_header", "cleanup_interval"}, "only an original_dst cluster takes ");
    return;
  }
  r.boolean("use_http_header", c.use_http_header);
  r.duration("cleanup_interval", c.cleanup_interval);
  if (c.cleanup_interval <= Duration::zero())
    r.ctx().error(r.locOf("cleanup_interval"), r.childPath("cleanup_interval"), "must be greater than 0");
  refuse({"endpoints", "health_check", "outlier_detection"},
         "an original_dst cluster connects to each connection's original destination: no ");
}

void readEndpoints(MapReader& cr, std::vector<EndpointConfig>& out) {
  if (!cr.has("endpoints")) {
    cr.ctx().error(cr.node(), cr.childPath("endpoints"), "missing required field");
    return;
  }
  const YAML::Node list = cr.child("endpoints");
  if (list.IsSequence() && list.size() == 0)
    cr.ctx().error(list, cr.childPath("endpoints"), "at least one endpoint is required");
  // The same address may appear twice (as in Envoy); such entries share the
  // server's health, ejection state, stats and connection pool.
  cr.forEachItem("endpoints", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(cr.ctx(), item, path);
    if (!r.isMap()) return;
    EndpointConfig e;
    r.address("address", e.address, /*required=*/true);
    // Unlike a listener, an upstream has no "any port".
    if (e.address.family() != 0 && e.address.port() == 0)
      r.ctx().error(r.locOf("address"), r.childPath("address"), "port out of range");
    r.uint32("weight", e.weight, 1, 128);
    r.uint32("priority", e.priority, 0, 127);
    if (r.has("locality")) {
      MapReader lr(r.ctx(), r.child("locality"), r.childPath("locality"));
      if (lr.isMap()) {
        lr.string("region", e.locality.region);
        lr.string("zone", e.locality.zone);
        lr.string("sub_zone", e.locality.sub_zone);
        lr.finish();
      }
    }
    r.finish();
    out.push_back(e);
  });
}

bool parseStatusRange(const YAML::Node& n, std::pair<int, int>& out) {
  if (!n.IsScalar()) return false;
  const std::string s = n.Scalar();
  auto num = [](std::string_view t, int& v) {
    if (t.size() != 3 || !std::all_of(t.begin(), t.end(), [](unsigned char ch) { return std::isdigit(ch); }))
      return false;
    v = std::stoi(std::string(t));
    return v >= 100 && v <= 599;
  };
  const auto dash = s.find('-');
  if (dash == std::string::npos) {
    if (!num(s, out.first)) return false;
    out.second = out.first;
    return true;
  }
  return num(std::string_view(s).substr(0, dash), out.first) && num(std::string_view(s).substr(dash + 1), out.second) &&
         out.first <= out.second;
}

void readHealthCheck(MapReader& cr, ClusterConfig& c) {
  const YAML::Node node = cr.child("health_check");
  if (!node.IsDefined()) return;
  MapReader r(cr.ctx(), node, cr.childPath("health_check"));
  if (!r.isMap()) return;
  HealthCheckConfig hc;
  r.duration("interval", hc.interval);
  positive(r, "interval", hc.interval);
  r.duration("timeout", hc.timeout);
  positive(r, "timeout", hc.timeout);
  r.duration("jitter", hc.jitter);
  // Unset: hosts without traffic are checked as often as the others.
  hc.no_traffic_interval = hc.interval;
  r.duration("no_traffic_interval", hc.no_traffic_interval);
  positive(r, "no_traffic_interval", hc.no_traffic_interval);
  r.uint32("healthy_threshold", hc.healthy_threshold, 1, 1000);
  r.uint32("unhealthy_threshold", hc.unhealthy_threshold, 1, 1000);
  if (const YAML::Node h = r.child("http"); h.IsDefined()) {
    MapReader hr(r.ctx(), h, r.childPath("http"));
    if (hr.isMap()) {
      HealthCheckConfig::Http http;
      hr.string("path", http.path);
      if (http.path.empty() || http.path[0] != '/')
        hr.ctx().error(hr.locOf("path"), hr.childPath("path"), "must start with '/'");
      hr.string("host", http.host);
      if (hr.has("codec")) {
        std::string codec;
        hr.string("codec", codec);
        if (codec == "http1") http.codec = HealthCheckConfig::Codec::Http1;
        else if (codec == "http2") http.codec = HealthCheckConfig::Codec::Http2;
        else if (hr.child("codec").IsScalar())
          hr.ctx().error(hr.locOf("codec"), hr.childPath("codec"), "must be http1 or http2");
      }
      if (hr.has("expected_statuses")) {
        http.expected_statuses.clear();
        hr.forEachItem("expected_statuses", [&](const YAML::Node& item, const std::string& path) {
          std::pair<int, int> range;
          if (parseStatusRange(item, range)) {
            http.expected_statuses.push_back(range);
          } else {
            hr.ctx().error(item, path, "expected a status (200) or an inclusive range (\"200-299\") within 100-599");
          }
        });
        if (hr.child("expected_statuses").IsSequence() && hr.child("expected_statuses").size() == 0)
          hr.ctx().error(hr.locOf("expected_statuses"), hr.childPath("expected_statuses"), "must not be empty");
      }
      hr.finish();
      hc.http = std::move(http);
    }
  }
  block(r, "tcp", [&](MapReader* tr) {
    HealthCheckConfig::Tcp tcp;
    if (tr) {
      tr->string("send", tcp.send);
      tr->string("expect", tcp.expect);
    }
    hc.tcp = std::move(tcp);
  });
  block(r, "grpc", [&](MapReader* gr) {
    HealthCheckConfig::Grpc grpc;
    if (gr) {
      gr->string("service_name", grpc.service_name);
      gr->string("authority", grpc.authority);
    }
    hc.grpc = std::move(grpc);
  });
  if (int(hc.http.has_value()) + int(hc.tcp.has_value()) + int(hc.grpc.has_value()) != 1)
    r.ctx().error(node, r.path(), "give exactly one of http, tcp, grpc");
  r.finish();
  c.health_check = std::move(hc);
}

void readOutlierDetection(MapReader& cr, ClusterConfig& c) {
  const YAML::Node node = cr.child("outlier_detection");
  if (!node.IsDefined()) return;
  MapReader r(cr.ctx(), node, cr.childPath("outlier_detection"));
  if (!r.isMap()) return;
  OutlierDetectionConfig od;
  r.uint32("consecutive_5xx", od.consecutive_5xx, 0, 1000);
  r.uint32("consecutive_gateway_failure", od.consecutive_gateway_failure, 0, 1000);
  r.duration("interval", od.interval);
  positive(r, "interval", od.interval);
  r.duration("base_ejection_time", od.base_ejection_time);
  positive(r, "base_ejection_time", od.base_ejection_time);
  r.duration("max_ejection_time", od.max_ejection_time);
  positive(r, "max_ejection_time", od.max_ejection_time);
  if (od.max_ejection_time < od.base_ejection_time) {
    // Name the key the user wrote: max may be the default.
    const std::string_view key = r.has("max_ejection_time") ? "max_ejection_time" : "base_ejection_time";
    r.ctx().error(r.locOf(key), r.childPath(key),
                  r.has("max_ejection_time") ? "must not be less than base_ejection_time"
                                             : "exceeds max_ejection_time (default 300s); raise max_ejection_time too");
  }
  r.uint32("max_ejection_percent", od.max_ejection_percent, 0, 100);
  r.uint32("half_open_max_requests", od.half_open_max_requests, 1, 1000);
  block(r, "success_rate", [&](MapReader* sr) {
    OutlierDetectionConfig::SuccessRate rate;
    if (sr) {
      sr->uint32("minimum_hosts", rate.minimum_hosts, 1, 10000);
      sr->uint32("request_volume", rate.request_volume, 1, 1u << 30);
      sr->number("stdev_factor", rate.stdev_factor, 0.1, 100);
    }
    od.success_rate = rate;
  });
  block(r, "failure_percentage", [&](MapReader* fr) {
    OutlierDetectionConfig::FailurePercentage fp;
    if (fr) {
      fr->uint32("threshold", fp.threshold, 1, 100);
      fr->uint32("minimum_hosts", fp.minimum_hosts, 1, 10000);
      fr->uint32("request_volume", fp.request_volume, 1, 1u << 30);
    }
    od.failure_percentage = fp;
  });
  r.finish();
  c.outlier_detection = od;
}

// Connections are shared by both priorities (a pooled connection serves
// either), so only the normal group has max_connections.
void readThresholds(MapReader& r, CircuitBreakerThresholds& t, bool with_connections) {
  if (with_connections) r.uint32("max_connections", t.max_connections, 1, 1u << 30);
  // At least 1: a request waiting for a new connection is pending, so 0
  // would refuse every request that finds no idle connection.
  r.uint32("max_pending_requests", t.max_pending_requests, 1, 1u << 30);
  r.uint32("max_requests", t.max_requests, 1, 1u << 30);
  r.uint32("max_retries", t.max_retries, 0, 1u << 30);
  // Setting only max_retries asks for a fixed limit, as in Envoy; the budget
  // (on by default) otherwise decides.
  if (r.has("retry_budget")) {
    MapReader br(r.ctx(), r.child("retry_budget"), r.childPath("retry_budget"));
    if (br.isMap()) {
      RetryBudget b;
      br.uint32("budget_percent", b.budget_percent, 0, 100);
      br.uint32("min_retry_concurrency", b.min_retry_concurrency, 0, 1u << 30);
      br.finish();
      t.retry_budget = b;
    }
  } else if (r.has("max_retries")) {
    t.retry_budget.reset();
  }
}

void readCircuitBreakers(MapReader& cr, ClusterConfig& c) {
  const YAML::Node node = cr.child("circuit_breakers");
  if (!node.IsDefined()) return;
  MapReader r(cr.ctx(), node, cr.childPath("circuit_breakers"));
  if (!r.isMap()) return;
  readThresholds(r, c.circuit_breakers.normal, /*with_connections=*/true);
  if (const YAML::Node h = r.child("high"); h.IsDefined()) {
    MapReader hr(r.ctx(), h, r.childPath("high"));
    if (hr.isMap()) {
      readThresholds(hr, c.circuit_breakers.high, /*with_connections=*/false);
      hr.finish();
    }
  }
  r.finish();
}

bool isPrime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; static_cast<uint64_t>(d) * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

void readLbSettings(MapReader& r, ClusterConfig& c) {
  std::string policy(lbPolicyName(c.lb_policy));
  r.string("lb_policy", policy);
  if (!parseLbPolicy(policy, c.lb_policy))
    r.ctx().error(r.locOf("lb_policy"), r.childPath("lb_policy"),
                  "unsupported lb_policy '" + policy +
                      "' (supported: round_robin, least_request, random, ring_hash, maglev)");
  readHashPolicy(r, c.hash_policy);
  if (!c.hash_policy.empty() && c.lb_policy != LbPolicy::RingHash && c.lb_policy != LbPolicy::Maglev)
    r.ctx().error(r.locOf("hash_policy"), r.childPath("hash_policy"),
                  "hash_policy needs lb_policy ring_hash or maglev (not " + policy + ")");
  if (const YAML::Node n = r.child("ring_hash"); n.IsDefined()) {
    MapReader rr(r.ctx(), n, r.childPath("ring_hash"));
    if (rr.isMap()) {
      rr.uint32("minimum_ring_size", c.ring_hash_minimum_ring_size, 1, 8u << 20);
      rr.uint32("maximum_ring_size", c.ring_hash_maximum_ring_size, 1, 8u << 20);
      if (c.ring_hash_maximum_ring_size < c.ring_hash_minimum_ring_size)
        rr.ctx().error(rr.locOf("maximum_ring_size"), rr.childPath("maximum_ring_size"),
                       "must not be less than minimum_ring_size");
      rr.finish();
    }
  }
  if (const YAML::Node n = r.child("maglev"); n.IsDefined()) {
    MapReader mr(r.ctx(), n, r.childPath("maglev"));
    if (mr.isMap()) {
      mr.uint32("table_size", c.maglev_table_size, 3, 5000011);
      if (!isPrime(c.maglev_table_size))
        mr.ctx().error(mr.locOf("table_size"), mr.childPath("table_size"),
                       "must be a prime number (e.g. 65537)");
      mr.finish();
    }
  }
  if (const YAML::Node n = r.child("least_request"); n.IsDefined()) {
    MapReader lr(r.ctx(), n, r.childPath("least_request"));
    if (lr.isMap()) {
      lr.uint32("choice_count", c.least_request_choice_count, 2, 100);
      lr.finish();
    }
  }
  r.uint32("panic_threshold", c.panic_threshold_percent, 0, 100);
  r.uint32("overprovisioning_factor", c.overprovisioning_factor_percent, 100, 1000);
}

}  // namespace

std::string_view upstreamProtocolName(UpstreamProtocol p) {
  switch (p) {
    case UpstreamProtocol::Http1: return "http1";
    case UpstreamProtocol::Http2: return "http2";
    case UpstreamProtocol::Auto: return "auto";
  }
  return "?";
}

std::string_view clusterTypeName(ClusterType t) {
  return t == ClusterType::OriginalDst ? "original_dst" : "endpoints";
}

std::string_view lbPolicyName(LbPolicy p) {
  for (const auto& [policy, name] : kLbPolicies)
    if (policy == p) return name;
  return "round_robin";
}

bool parseLbPolicy(std::string_view name, LbPolicy& out) {
  for (const auto& [policy, n] : kLbPolicies) {
    if (n == name) {
      out = policy;
      return true;
    }
  }
  return false;
}

void readName(MapReader& r, std::string& out) {
  r.string("name", out, /*required=*/true);
  if (!r.has("name") || !r.child("name").IsScalar()) return;  // already reported
  const bool ok = !out.empty() && std::all_of(out.begin(), out.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
  if (!ok) r.ctx().error(r.locOf("name"), r.childPath("name"), "invalid name '" + out + "': use [A-Za-z0-9_.-]+");
}

void readClusters(MapReader& top, Config& cfg) {
  std::unordered_map<std::string, std::string> names;
  top.forEachItem("clusters", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    if (!r.isMap()) return;
    ClusterConfig c;
    c.loc = locOf(item);
    readName(r, c.name);
    r.duration("connect_timeout", c.connect_timeout);
    if (c.connect_timeout <= Duration::zero())
      r.ctx().error(r.locOf("connect_timeout"), r.childPath("connect_timeout"), "must be greater than 0");
    readLbSettings(r, c);
    r.uint32("max_connections_per_host", c.max_connections_per_host, 1, 1u << 20);
    r.uint32("max_pending_requests", c.max_pending_requests, 0, 1u << 20);
    r.duration("idle_timeout", c.idle_timeout);
    if (c.idle_timeout <= Duration::zero())
      r.ctx().error(r.locOf("idle_timeout"), r.childPath("idle_timeout"), "must be greater than 0");
    readClusterType(r, c);
    readHealthCheck(r, c);
    readOutlierDetection(r, c);
    readCircuitBreakers(r, c);
    ClusterLoadAssignmentSpec assignment;
    if (c.type == ClusterType::Endpoints) readEndpoints(r, assignment.endpoints);
    readUpstreamTls(r, "tls", c.tls);
    readProtocol(r, c);
    checkHealthCheckAlpn(r, c);
    r.finish();
    // Inline endpoints are the cluster's load assignment, named after it.
    if (c.type == ClusterType::Endpoints) {
      c.load_assignment = assignment.cluster_name = c.name;
      cfg.load_assignments.push_back(std::move(assignment));
    }
    if (!c.name.empty() && !names.emplace(c.name, path).second)
      r.ctx().error(r.locOf("name"), r.childPath("name"),
                    "duplicate cluster name '" + c.name + "' (first in " + names[c.name] + ")");
    cfg.clusters.push_back(std::move(c));
  });
}

}  // namespace sluice::config
