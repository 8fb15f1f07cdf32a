// Active health checks and outlier detection of a cluster, both ways.

#include <cmath>

#include "xds/cluster_parts.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;
namespace cluster = envoy::config::cluster::v3;

constexpr char kHex[] = "0123456789ABCDEF";

std::string toHex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Envoy's Payload: `text` is hex, `binary` the bytes themselves.
FieldError payloadFromEnvoy(const core::HealthCheck::Payload& p, const std::string& path, std::string& out) {
  out.clear();
  if (p.payload_case() == core::HealthCheck::Payload::kBinary) {
    out = p.binary();
    return {};
  }
  const std::string& t = p.text();
  if (t.size() % 2 != 0) return {fieldPath(path, "text"), "hex payload has an odd number of digits"};
  for (size_t i = 0; i < t.size(); i += 2) {
    const int hi = hexDigit(t[i]), lo = hexDigit(t[i + 1]);
    if (hi < 0 || lo < 0) return {fieldPath(path, "text"), "not hex: '" + t + "'"};
    out += static_cast<char>(hi * 16 + lo);
  }
  return {};
}

FieldError requiredPositive(bool has, const google::protobuf::Duration& d, const std::string& path,
                            config::Duration& out) {
  if (!has) return {path, "missing (Envoy requires it)"};
  return positiveDurationFromEnvoy(d, path, out);
}

FieldError httpFromEnvoy(const core::HealthCheck::HttpHealthCheck& in, const std::string& path,
                         config::HealthCheckConfig::Http& out) {
  if (in.path().empty() || in.path()[0] != '/') return {fieldPath(path, "path"), "must start with '/'"};
  out.path = in.path();
  out.host = in.host();
  if (in.has_send()) return {fieldPath(path, "send"), "HTTP checks with a request body are not supported"};
  if (in.receive_size() > 0) return {fieldPath(path, "receive"), "HTTP checks match statuses only, not body payloads"};
  if (in.request_headers_to_add_size() > 0)
    return {fieldPath(path, "request_headers_to_add"), "extra health check request headers are not supported"};
  if (in.request_headers_to_remove_size() > 0)
    return {fieldPath(path, "request_headers_to_remove"), "not supported"};
  if (in.has_service_name_matcher())
    return {fieldPath(path, "service_name_matcher"), "checking the upstream's service name is not supported"};
  if (in.method() != core::METHOD_UNSPECIFIED && in.method() != core::GET)
    return {fieldPath(path, "method"), "health checks use GET only"};
  switch (in.codec_client_type()) {
    case envoy::type::v3::HTTP1: out.codec = config::HealthCheckConfig::Codec::Http1; break;
    case envoy::type::v3::HTTP2: out.codec = config::HealthCheckConfig::Codec::Http2; break;
    default: return {fieldPath(path, "codec_client_type"), "only HTTP1 and HTTP2 checks are supported"};
  }
  // Envoy's ranges are [start, end); the model's are inclusive. No ranges:
  // 200 only, as in Envoy.
  out.expected_statuses.clear();
  for (int i = 0; i < in.expected_statuses_size(); ++i) {
    const auto& r = in.expected_statuses(i);
    if (r.start() < 100 || r.end() > 600 || r.start() >= r.end())
      return {indexPath(fieldPath(path, "expected_statuses"), i),
              "expected [start, end) with 100 <= start < end <= 600, got [" + std::to_string(r.start()) + ", " +
                  std::to_string(r.end()) + ")"};
    out.expected_statuses.emplace_back(static_cast<int>(r.start()), static_cast<int>(r.end() - 1));
  }
  if (out.expected_statuses.empty()) out.expected_statuses = {{200, 200}};
  return {};
}

// 0 turns a detector off, 100 on; Sluice does not eject a fraction of the time.
FieldError enforcing(const google::protobuf::UInt32Value& v, bool has, uint32_t dflt, const std::string& path,
                     bool& on) {
  const uint32_t e = has ? v.value() : dflt;
  if (e != 0 && e != 100)
    return {path, "Sluice enforces a detector always or never: expected 0 or 100, got " + std::to_string(e)};
  on = e == 100;
  return {};
}

}  // namespace

FieldError positiveDurationFromEnvoy(const google::protobuf::Duration& d, const std::string& path,
                                     config::Duration& out) {
  config::Duration v{};
  if (!fromProto(d, v)) return {path, "invalid duration"};
  if (v <= config::Duration::zero()) return {path, "must be at least 1ms"};
  out = v;
  return {};
}

FieldError rangeFromEnvoy(uint64_t v, const std::string& path, uint32_t& out, uint32_t min, uint32_t max) {
  if (v < min || v > max)
    return {path, std::to_string(v) + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")"};
  out = static_cast<uint32_t>(v);
  return {};
}

FieldError limitFromEnvoy(uint64_t v, const std::string& path, uint32_t& out, uint32_t min, uint32_t max) {
  if (v < min) return {path, "must be at least " + std::to_string(min)};
  out = static_cast<uint32_t>(std::min<uint64_t>(v, max));
  return {};
}

void healthCheckToEnvoy(const config::HealthCheckConfig& h, core::HealthCheck& out) {
  toProto(h.timeout, *out.mutable_timeout());
  toProto(h.interval, *out.mutable_interval());
  if (h.jitter > config::Duration::zero()) toProto(h.jitter, *out.mutable_interval_jitter());
  toProto(h.no_traffic_interval, *out.mutable_no_traffic_interval());
  out.mutable_healthy_threshold()->set_value(h.healthy_threshold);
  out.mutable_unhealthy_threshold()->set_value(h.unhealthy_threshold);
  if (h.http) {
    auto& http = *out.mutable_http_health_check();
    http.set_path(h.http->path);
    http.set_host(h.http->host);
    for (const auto& [lo, hi] : h.http->expected_statuses) {
      auto& r = *http.add_expected_statuses();
      r.set_start(lo);
      r.set_end(hi + 1);
    }
    http.set_codec_client_type(h.http->codec == config::HealthCheckConfig::Codec::Http2 ? envoy::type::v3::HTTP2
                                                                                         : envoy::type::v3::HTTP1);
  } else if (h.grpc) {
    auto& grpc = *out.mutable_grpc_health_check();
    grpc.set_service_name(h.grpc->service_name);
    grpc.set_authority(h.grpc->authority);
  } else if (h.tcp) {
    auto& tcp = *out.mutable_tcp_health_check();
    if (!h.tcp->send.empty()) tcp.mutable_send()->set_text(toHex(h.tcp->send));
    if (!h.tcp->expect.empty()) tcp.add_receive()->set_text(toHex(h.tcp->expect));
  }
}

FieldError healthCheckFromEnvoy(const core::HealthCheck& in, const std::string& path, config::HealthCheckConfig& out) {
  out = config::HealthCheckConfig{};
  if (auto e = requiredPositive(in.has_timeout(), in.timeout(), fieldPath(path, "timeout"), out.timeout); !e.empty())
    return e;
  if (auto e = requiredPositive(in.has_interval(), in.interval(), fieldPath(path, "interval"), out.interval);
      !e.empty())
    return e;
  if (in.has_interval_jitter() && !fromProto(in.interval_jitter(), out.jitter))
    return {fieldPath(path, "interval_jitter"), "invalid duration"};
  // Envoy's default for hosts without traffic.
  out.no_traffic_interval = std::chrono::seconds(60);
  if (in.has_no_traffic_interval()) {
    if (auto e = positiveDurationFromEnvoy(in.no_traffic_interval(), fieldPath(path, "no_traffic_interval"),
                                           out.no_traffic_interval);
        !e.empty())
      return e;
  }
  if (!in.has_healthy_threshold()) return {fieldPath(path, "healthy_threshold"), "missing (Envoy requires it)"};
  if (!in.has_unhealthy_threshold()) return {fieldPath(path, "unhealthy_threshold"), "missing (Envoy requires it)"};
  if (auto e = rangeFromEnvoy(in.healthy_threshold().value(), fieldPath(path, "healthy_threshold"),
                              out.healthy_threshold, 1, 1000);
      !e.empty())
    return e;
  if (auto e = rangeFromEnvoy(in.unhealthy_threshold().value(), fieldPath(path, "unhealthy_threshold"),
                              out.unhealthy_threshold, 1, 1000);
      !e.empty())
    return e;
  if (in.has_alt_port()) return {fieldPath(path, "alt_port"), "health checks go to the endpoint's own port"};
  switch (in.health_checker_case()) {
    case core::HealthCheck::kHttpHealthCheck: {
      config::HealthCheckConfig::Http http;
      if (auto e = httpFromEnvoy(in.http_health_check(), fieldPath(path, "http_health_check"), http); !e.empty())
        return e;
      out.http = std::move(http);
      break;
    }
    case core::HealthCheck::kGrpcHealthCheck: {
      const auto& g = in.grpc_health_check();
      if (g.initial_metadata_size() > 0)
        return {fieldPath(path, "grpc_health_check.initial_metadata"), "not supported"};
      out.grpc = config::HealthCheckConfig::Grpc{g.service_name(), g.authority()};
      break;
    }
    case core::HealthCheck::kTcpHealthCheck: {
      const auto& t = in.tcp_health_check();
      const std::string tp = fieldPath(path, "tcp_health_check");
      config::HealthCheckConfig::Tcp tcp;
      if (t.has_proxy_protocol_config()) return {fieldPath(tp, "proxy_protocol_config"), "not supported"};
      if (t.has_send())
        if (auto e = payloadFromEnvoy(t.send(), fieldPath(tp, "send"), tcp.send); !e.empty()) return e;
      if (t.receive_size() > 1)
        return {fieldPath(tp, "receive"), "Sluice awaits one reply payload; got " + std::to_string(t.receive_size())};
      if (t.receive_size() == 1)
        if (auto e = payloadFromEnvoy(t.receive(0), indexPath(fieldPath(tp, "receive"), 0), tcp.expect); !e.empty())
          return e;
      out.tcp = std::move(tcp);
      break;
    }
    case core::HealthCheck::kCustomHealthCheck:
      return {fieldPath(path, "custom_health_check"),
              "unsupported health checker '" + in.custom_health_check().name() + "' (Sluice checks http, grpc, tcp)"};
    default: return {path, "no health checker set (Sluice checks http, grpc, tcp)"};
  }
  return {};
}

void outlierDetectionToEnvoy(const config::OutlierDetectionConfig& o, cluster::OutlierDetection& out,
                             google::protobuf::Struct& sluice) {
  // Every enforcing_* is written: Envoy's defaults differ from the model's.
  if (o.consecutive_5xx > 0) out.mutable_consecutive_5xx()->set_value(o.consecutive_5xx);
  out.mutable_enforcing_consecutive_5xx()->set_value(o.consecutive_5xx > 0 ? 100 : 0);
  if (o.consecutive_gateway_failure > 0)
    out.mutable_consecutive_gateway_failure()->set_value(o.consecutive_gateway_failure);
  out.mutable_enforcing_consecutive_gateway_failure()->set_value(o.consecutive_gateway_failure > 0 ? 100 : 0);
  toProto(o.interval, *out.mutable_interval());
  toProto(o.base_ejection_time, *out.mutable_base_ejection_time());
  toProto(o.max_ejection_time, *out.mutable_max_ejection_time());
  out.mutable_max_ejection_percent()->set_value(o.max_ejection_percent);
  out.mutable_enforcing_success_rate()->set_value(o.success_rate ? 100 : 0);
  if (o.success_rate) {
    out.mutable_success_rate_minimum_hosts()->set_value(o.success_rate->minimum_hosts);
    out.mutable_success_rate_request_volume()->set_value(o.success_rate->request_volume);
    const double milli = std::round(o.success_rate->stdev_factor * 1000);
    out.mutable_success_rate_stdev_factor()->set_value(static_cast<uint32_t>(milli));
    if (milli / 1000 != o.success_rate->stdev_factor) setNumber(sluice, "stdev_factor", o.success_rate->stdev_factor);
  }
  out.mutable_enforcing_failure_percentage()->set_value(o.failure_percentage ? 100 : 0);
  if (o.failure_percentage) {
    out.mutable_failure_percentage_threshold()->set_value(o.failure_percentage->threshold);
    out.mutable_failure_percentage_minimum_hosts()->set_value(o.failure_percentage->minimum_hosts);
    out.mutable_failure_percentage_request_volume()->set_value(o.failure_percentage->request_volume);
  }
  setNumber(sluice, "half_open_max_requests", o.half_open_max_requests);
}

FieldError outlierDetectionFromEnvoy(const cluster::OutlierDetection& in, const std::string& path,
                                     const StructFields& sluice, config::OutlierDetectionConfig& out) {
  out = config::OutlierDetectionConfig{};
  auto p = [&](std::string_view f) { return fieldPath(path, f); };
  if (in.split_external_local_origin_errors())
    return {p("split_external_local_origin_errors"), "Sluice counts local-origin failures with the others"};
  if (in.monitors_size() > 0) return {p("monitors"), "outlier detection monitors are not supported"};

  bool on = false;
  if (auto e = enforcing(in.enforcing_consecutive_5xx(), in.has_enforcing_consecutive_5xx(), 100,
                         p("enforcing_consecutive_5xx"), on);
      !e.empty())
    return e;
  if (in.has_consecutive_5xx())
    if (auto e = rangeFromEnvoy(in.consecutive_5xx().value(), p("consecutive_5xx"), out.consecutive_5xx, 0, 1000);
        !e.empty())
      return e;
  if (!on) out.consecutive_5xx = 0;
  if (auto e = enforcing(in.enforcing_consecutive_gateway_failure(), in.has_enforcing_consecutive_gateway_failure(), 0,
                         p("enforcing_consecutive_gateway_failure"), on);
      !e.empty())
    return e;
  if (in.has_consecutive_gateway_failure())
    if (auto e = rangeFromEnvoy(in.consecutive_gateway_failure().value(), p("consecutive_gateway_failure"),
                                out.consecutive_gateway_failure, 0, 1000);
        !e.empty())
      return e;
  if (!on) out.consecutive_gateway_failure = 0;

  if (in.has_interval())
    if (auto e = positiveDurationFromEnvoy(in.interval(), p("interval"), out.interval); !e.empty()) return e;
  if (in.has_base_ejection_time())
    if (auto e = positiveDurationFromEnvoy(in.base_ejection_time(), p("base_ejection_time"), out.base_ejection_time);
        !e.empty())
      return e;
  if (in.has_max_ejection_time())
    if (auto e = positiveDurationFromEnvoy(in.max_ejection_time(), p("max_ejection_time"), out.max_ejection_time);
        !e.empty())
      return e;
  if (out.max_ejection_time < out.base_ejection_time)
    return {p(in.has_max_ejection_time() ? "max_ejection_time" : "base_ejection_time"),
            "max_ejection_time (default 300s) must not be less than base_ejection_time"};
  if (in.has_max_ejection_percent())
    if (auto e = rangeFromEnvoy(in.max_ejection_percent().value(), p("max_ejection_percent"),
                                out.max_ejection_percent, 0, 100);
        !e.empty())
      return e;

  if (auto e = enforcing(in.enforcing_success_rate(), in.has_enforcing_success_rate(), 100,
                         p("enforcing_success_rate"), on);
      !e.empty())
    return e;
  if (on) {
    config::OutlierDetectionConfig::SuccessRate r;
    if (in.has_success_rate_minimum_hosts())
      if (auto e = rangeFromEnvoy(in.success_rate_minimum_hosts().value(), p("success_rate_minimum_hosts"),
                                  r.minimum_hosts, 1, 10000);
          !e.empty())
        return e;
    if (in.has_success_rate_request_volume())
      if (auto e = rangeFromEnvoy(in.success_rate_request_volume().value(), p("success_rate_request_volume"),
                                  r.request_volume, 1, 1u << 30);
          !e.empty())
        return e;
    if (in.has_success_rate_stdev_factor()) {
      uint32_t milli = 0;
      if (auto e = rangeFromEnvoy(in.success_rate_stdev_factor().value(), p("success_rate_stdev_factor"), milli, 100,
                                  100000);
          !e.empty())
        return e;
      r.stdev_factor = milli / 1000.0;
    }
    // The exact factor when it is finer than Envoy's thousandths.
    if (auto e = sluice.number("stdev_factor", r.stdev_factor, 0.1, 100); !e.empty()) return e;
    out.success_rate = r;
  }

  if (auto e = enforcing(in.enforcing_failure_percentage(), in.has_enforcing_failure_percentage(), 0,
                         p("enforcing_failure_percentage"), on);
      !e.empty())
    return e;
  if (on) {
    config::OutlierDetectionConfig::FailurePercentage f;
    if (in.has_failure_percentage_threshold())
      if (auto e = rangeFromEnvoy(in.failure_percentage_threshold().value(), p("failure_percentage_threshold"),
                                  f.threshold, 1, 100);
          !e.empty())
        return e;
    if (in.has_failure_percentage_minimum_hosts())
      if (auto e = rangeFromEnvoy(in.failure_percentage_minimum_hosts().value(), p("failure_percentage_minimum_hosts"),
                                  f.minimum_hosts, 1, 10000);
          !e.empty())
        return e;
    if (in.has_failure_percentage_request_volume())
      if (auto e = rangeFromEnvoy(in.failure_percentage_request_volume().value(),
                                  p("failure_percentage_request_volume"), f.request_volume, 1, 1u << 30);
          !e.empty())
        return e;
    out.failure_percentage = f;
  }
  if (auto e = sluice.onlyKeys({"half_open_max_requests", "stdev_factor"}); !e.empty()) return e;
  return sluice.uint32("half_open_max_requests", out.half_open_max_requests, 1, 1000);
}

}  // namespace sluice::xds
