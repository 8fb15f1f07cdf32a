#include "config/config_json.h"

#include "config/route_config.h"

namespace sluice::config {

// Source locations and the file name are left out on purpose: a listener that
// only moved within the file (or to another file) has not changed.

nlohmann::json toJson(const Config& c) {
  nlohmann::json listeners = nlohmann::json::array();
  for (const auto& l : c.listeners) listeners.push_back(toJson(l));
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& r : c.route_configs) {
    nlohmann::json one = r.spec ? r.spec->toJson() : nlohmann::json::object();
    one["name"] = r.name;
    routes.push_back(std::move(one));
  }
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& cl : c.clusters) clusters.push_back(toJson(cl));
  nlohmann::json assignments = nlohmann::json::array();
  for (const auto& a : c.load_assignments) assignments.push_back(toJson(a));
  nlohmann::json secrets = nlohmann::json::array();
  for (const auto& s : c.secrets) secrets.push_back(toJson(s));
  const Bootstrap& b = c.bootstrap;
  nlohmann::json j = {{"admin", {{"address", b.admin.address.str()}}},
          {"workers", b.workers},
          {"drain_timeout", durationString(b.drain_timeout)},
          {"listeners", std::move(listeners)},
          {"route_configs", std::move(routes)},
          {"clusters", std::move(clusters)},
          {"load_assignments", std::move(assignments)},
          {"secrets", std::move(secrets)}};
  if (b.certificate_watch_interval != Bootstrap{}.certificate_watch_interval)
    j["certificate_watch_interval"] = durationString(b.certificate_watch_interval);
  if (b.overload.enabled()) j["overload"] = toJson(b.overload);
  if (!b.node.id.empty() || !b.node.cluster.empty()) j["node"] = {{"id", b.node.id}, {"cluster", b.node.cluster}};
  if (!(b.node.locality == LocalityConfig{}))
    j["node"]["locality"] = {{"region", b.node.locality.region},
                             {"zone", b.node.locality.zone},
                             {"sub_zone", b.node.locality.sub_zone}};
  j["config_source"] = toJson(b.config_source);
  if (b.ca)
    j["ca"] = {{"address", b.ca->address},
               {"token_file", b.ca->token_file},
               {"ttl", durationString(b.ca->ttl)},
               {"secret_name", b.ca->secret_name}};
  return j;
}

nlohmann::json toJson(const ConfigSourceSpec& s) {
  switch (s.kind) {
    case ConfigSourceSpec::Kind::File: return {{"kind", "file"}, {"path", s.path}};
    case ConfigSourceSpec::Kind::Ads:
      return {{"kind", "ads"},
              {"path", s.path},
              {"address", s.ads.address},
              {"initial_fetch_timeout", durationString(s.ads.initial_fetch_timeout)},
              {"delta", s.ads.delta}};
  }
  return nullptr;
}

// Paths only: the key files' contents never appear in a dump. Their
// changes are the certificate sources' business, not a listener change. An
// inline secret shows how much it holds, and its certificates (public), never
// its key.
nlohmann::json toJson(const SecretSpec& s) {
  auto inlineSize = [](const std::string& pem) { return "<inline PEM, " + std::to_string(pem.size()) + " bytes>"; };
  switch (s.kind) {
    case SecretSpec::Kind::TlsCertificate:
      if (s.inline_pem)
        return {{"name", s.name},
                {"tls_certificate", {{"cert_chain", s.cert_chain}, {"private_key", inlineSize(s.private_key)}}}};
      return {{"name", s.name},
              {"tls_certificate", {{"cert_chain", s.cert_chain}, {"private_key", s.private_key}}}};
    case SecretSpec::Kind::ValidationContext:
      return {{"name", s.name}, {"validation_context", {{"trusted_ca", s.trusted_ca}}}};
  }
  return nullptr;
}

// Secrets by name: a listener's identity changes with the names (which, for
// secrets lifted from YAML, change with the paths), not with the material.
nlohmann::json toJson(const DownstreamTlsConfig& t) {
  return {{"certificates", t.certificates},
          {"validation_context", t.validation_context},
          {"require_client_cert", t.require_client_cert},
          {"verify_spiffe_ids", t.verify_spiffe_ids},
          {"alpn", t.alpn},
          {"handshake_timeout", durationString(t.handshake_timeout)},
          {"session_tickets", t.session_tickets},
          {"mode", t.mode == DownstreamTlsConfig::Mode::Permissive ? "permissive" : "strict"}};
}

nlohmann::json toJson(const UpstreamTlsConfig& t) {
  return {{"sni", t.sni},
          {"validation_context", t.validation_context},
          {"certificate", t.certificate},
          {"ca_certificate_provider_instance", t.ca_certificate_provider_instance},
          {"certificate_provider_instance", t.certificate_provider_instance},
          {"verify_subject_alt_names", t.verify_subject_alt_names},
          {"verify_spiffe_ids", t.verify_spiffe_ids},
          {"alpn", t.alpn}};
}

namespace {

nlohmann::json filtersJson(const std::vector<NetworkFilterEntry>& entries) {
  nlohmann::json filters = nlohmann::json::array();
  for (const auto& f : entries)
    filters.push_back({{"name", f.name}, {"config", f.spec ? f.spec->toJson() : nlohmann::json()}});
  return filters;
}

const char* transportName(FilterChainMatch::Transport t) {
  switch (t) {
    case FilterChainMatch::Transport::Any: return "";
    case FilterChainMatch::Transport::Tls: return "tls";
    case FilterChainMatch::Transport::RawBuffer: return "raw_buffer";
  }
  return "";
}

}  // namespace

nlohmann::json toJson(const ListenerConfig& l) {
  nlohmann::json j = {{"name", l.name},
                      {"address", l.address.str()},
                      {"max_connections", l.max_connections},
                      {"per_connection_buffer_limit_bytes", l.per_connection_buffer_limit_bytes},
                      {"filters", filtersJson(l.filters)}};
  // Absent unless used, so a plaintext listener's identity is what it was.
  if (l.tls) j["tls"] = toJson(*l.tls);
  if (l.use_original_dst) j["use_original_dst"] = true;
  if (!l.filter_chains.empty()) {
    nlohmann::json chains = nlohmann::json::array();
    for (const auto& c : l.filter_chains) {
      nlohmann::json cj = {{"match",
                            {{"server_names", c.match.server_names},
                             {"transport_protocol", transportName(c.match.transport_protocol)},
                             {"application_protocols", c.match.application_protocols}}},
                           {"filters", filtersJson(c.filters)}};
      if (c.match.destination_port) cj["match"]["destination_port"] = *c.match.destination_port;
      if (!c.match.prefix_ranges.empty()) {
        nlohmann::json ranges = nlohmann::json::array();
        for (const auto& p : c.match.prefix_ranges) ranges.push_back(p.str());
        cj["match"]["prefix_ranges"] = std::move(ranges);
      }
      if (c.tls) cj["tls"] = toJson(*c.tls);
      chains.push_back(std::move(cj));
    }
    j["filter_chains"] = std::move(chains);
  }
  return j;
}

namespace {

nlohmann::json toJson(const HealthCheckConfig& h) {
  nlohmann::json j = {{"interval", durationString(h.interval)},
                      {"timeout", durationString(h.timeout)},
                      {"jitter", durationString(h.jitter)},
                      {"no_traffic_interval", durationString(h.no_traffic_interval)},
                      {"healthy_threshold", h.healthy_threshold},
                      {"unhealthy_threshold", h.unhealthy_threshold}};
  if (h.http) {
    nlohmann::json statuses = nlohmann::json::array();
    for (const auto& [lo, hi] : h.http->expected_statuses)
      statuses.push_back(lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi));
    j["http"] = {{"path", h.http->path},
                 {"host", h.http->host},
                 {"expected_statuses", statuses},
                 {"codec", h.http->codec == HealthCheckConfig::Codec::Http2 ? "http2" : "http1"}};
  }
  if (h.tcp) j["tcp"] = {{"send", h.tcp->send}, {"expect", h.tcp->expect}};
  if (h.grpc) j["grpc"] = {{"service_name", h.grpc->service_name}, {"authority", h.grpc->authority}};
  return j;
}

nlohmann::json toJson(const OutlierDetectionConfig& o) {
  nlohmann::json j = {{"consecutive_5xx", o.consecutive_5xx},
                      {"consecutive_gateway_failure", o.consecutive_gateway_failure},
                      {"interval", durationString(o.interval)},
                      {"base_ejection_time", durationString(o.base_ejection_time)},
                      {"max_ejection_time", durationString(o.max_ejection_time)},
                      {"max_ejection_percent", o.max_ejection_percent},
                      {"half_open_max_requests", o.half_open_max_requests}};
  if (o.success_rate)
    j["success_rate"] = {{"minimum_hosts", o.success_rate->minimum_hosts},
                         {"request_volume", o.success_rate->request_volume},
                         {"stdev_factor", o.success_rate->stdev_factor}};
  if (o.failure_percentage)
    j["failure_percentage"] = {{"threshold", o.failure_percentage->threshold},
                               {"minimum_hosts", o.failure_percentage->minimum_hosts},
                               {"request_volume", o.failure_percentage->request_volume}};
  return j;
}

nlohmann::json toJson(const CircuitBreakerThresholds& t) {
  nlohmann::json j = {{"max_connections", t.max_connections},
                      {"max_pending_requests", t.max_pending_requests},
                      {"max_requests", t.max_requests},
                      {"max_retries", t.max_retries}};
  if (t.retry_budget)
    j["retry_budget"] = {{"budget_percent", t.retry_budget->budget_percent},
                         {"min_retry_concurrency", t.retry_budget->min_retry_concurrency}};
  return j;
}

}  // namespace

nlohmann::json toJson(const ClusterLoadAssignmentSpec& a) {
  nlohmann::json endpoints = nlohmann::json::array();
  for (const auto& e : a.endpoints) {
    nlohmann::json ep = {{"address", e.address.str()}, {"weight", e.weight}, {"priority", e.priority}};
    if (!(e.locality == LocalityConfig{}))
      ep["locality"] = {{"region", e.locality.region}, {"zone", e.locality.zone}, {"sub_zone", e.locality.sub_zone}};
    endpoints.push_back(std::move(ep));
  }
  return {{"cluster_name", a.cluster_name}, {"endpoints", std::move(endpoints)}};
}

nlohmann::json toJson(const ClusterConfig& c) {
  nlohmann::json breakers = toJson(c.circuit_breakers.normal);
  breakers["high"] = toJson(c.circuit_breakers.high);
  breakers["high"].erase("max_connections");  // connections are shared by both priorities
  nlohmann::json j = {{"name", c.name},
                      {"connect_timeout", durationString(c.connect_timeout)},
                      {"lb_policy", lbPolicyName(c.lb_policy)},
                      {"hash_policy", toJson(c.hash_policy)},
                      {"ring_hash",
                       {{"minimum_ring_size", c.ring_hash_minimum_ring_size},
                        {"maximum_ring_size", c.ring_hash_maximum_ring_size}}},
                      {"maglev", {{"table_size", c.maglev_table_size}}},
                      {"least_request", {{"choice_count", c.least_request_choice_count}}},
                      {"panic_threshold", c.panic_threshold_percent},
                      {"overprovisioning_factor", c.overprovisioning_factor_percent},
                      {"circuit_breakers", std::move(breakers)},
                      {"max_connections_per_host", c.max_connections_per_host},
                      {"max_pending_requests", c.max_pending_requests},
                      {"idle_timeout", durationString(c.idle_timeout)},
                      {"load_assignment", c.load_assignment}};
  if (c.type != ClusterType::Endpoints) j["type"] = clusterTypeName(c.type);
  if (c.type == ClusterType::OriginalDst) {
    j["use_http_header"] = c.use_http_header;
    j["cleanup_interval"] = durationString(c.cleanup_interval);
  }
  if (c.health_check) j["health_check"] = toJson(*c.health_check);
  if (c.outlier_detection) j["outlier_detection"] = toJson(*c.outlier_detection);
  if (c.tls) j["tls"] = toJson(*c.tls);
  j["protocol"] = upstreamProtocolName(c.protocol);
  if (c.protocol != UpstreamProtocol::Http1) j["http2"] = toJson(c.http2);
  return j;
}

nlohmann::json toJson(const Http2Settings& h2) {
  return {{"max_concurrent_streams", h2.max_concurrent_streams},
          {"initial_stream_window_size", h2.initial_stream_window_size},
          {"initial_connection_window_size", h2.initial_connection_window_size},
          {"max_frame_size", h2.max_frame_size},
          {"keepalive_interval", durationString(h2.keepalive_interval)},
          {"keepalive_timeout", durationString(h2.keepalive_timeout)},
          {"max_stream_resets_per_second", h2.max_stream_resets_per_second},
          {"max_stream_resets_burst", h2.max_stream_resets_burst}};
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
