// A cluster's upstream HTTP protocol, its HTTP/2 settings and its idle
// timeout, both ways, as Envoy's HttpProtocolOptions under
// typed_extension_protocol_options.

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "xds/cluster_parts.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;
namespace cluster = envoy::config::cluster::v3;
using envoy::extensions::upstreams::http::v3::HttpProtocolOptions;

constexpr char kProtocolOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

void http2ToEnvoy(const config::Http2Settings& h, core::Http2ProtocolOptions& out, google::protobuf::Struct& sluice) {
  out.mutable_max_concurrent_streams()->set_value(h.max_concurrent_streams);
  out.mutable_initial_stream_window_size()->set_value(h.initial_stream_window_size);
  out.mutable_initial_connection_window_size()->set_value(h.initial_connection_window_size);
  if (h.keepalive_interval > config::Duration::zero()) {
    toProto(h.keepalive_interval, *out.mutable_connection_keepalive()->mutable_interval());
    toProto(h.keepalive_timeout, *out.mutable_connection_keepalive()->mutable_timeout());
  } else {
    setNumber(sluice, "keepalive_timeout_ms", static_cast<double>(h.keepalive_timeout.count()));
  }
  setNumber(sluice, "max_frame_size", h.max_frame_size);
  setNumber(sluice, "max_stream_resets_per_second", h.max_stream_resets_per_second);
  setNumber(sluice, "max_stream_resets_burst", h.max_stream_resets_burst);
}

// Ranges as config/http2_settings.cc (RFC 9113 6.5.2).
FieldError http2FromEnvoy(const core::Http2ProtocolOptions& in, const std::string& path, const StructFields& sluice,
                          config::Http2Settings& out) {
  auto p = [&](std::string_view f) { return fieldPath(path, f); };
  if (in.has_max_concurrent_streams())
    if (auto e = limitFromEnvoy(in.max_concurrent_streams().value(), p("max_concurrent_streams"),
                                out.max_concurrent_streams, 1, 1u << 20);
        !e.empty())
      return e;
  if (in.has_initial_stream_window_size())
    if (auto e = rangeFromEnvoy(in.initial_stream_window_size().value(), p("initial_stream_window_size"),
                                out.initial_stream_window_size, 65535, 0x7fffffff);
        !e.empty())
      return e;
  if (in.has_initial_connection_window_size())
    if (auto e = rangeFromEnvoy(in.initial_connection_window_size().value(), p("initial_connection_window_size"),
                                out.initial_connection_window_size, 65535, 0x7fffffff);
        !e.empty())
      return e;
  if (in.custom_settings_parameters_size() > 0)
    return {p("custom_settings_parameters"), "custom HTTP/2 SETTINGS are not supported"};
  if (in.allow_connect()) return {p("allow_connect"), "extended CONNECT upstream is not supported"};
  if (in.has_connection_keepalive()) {
    const auto& k = in.connection_keepalive();
    const std::string kp = p("connection_keepalive");
    if (!k.has_interval()) return {fieldPath(kp, "interval"), "Sluice pings on an interval only"};
    if (auto e = positiveDurationFromEnvoy(k.interval(), fieldPath(kp, "interval"), out.keepalive_interval);
        !e.empty())
      return e;
    if (!k.has_timeout()) return {fieldPath(kp, "timeout"), "missing (Envoy requires it)"};
    if (auto e = positiveDurationFromEnvoy(k.timeout(), fieldPath(kp, "timeout"), out.keepalive_timeout); !e.empty())
      return e;
  }
  if (auto e = sluice.onlyKeys(
          {"keepalive_timeout_ms", "max_frame_size", "max_stream_resets_per_second", "max_stream_resets_burst"});
      !e.empty())
    return e;
  if (!in.has_connection_keepalive())
    if (auto e = sluice.milliseconds("keepalive_timeout_ms", out.keepalive_timeout); !e.empty()) return e;
  if (auto e = sluice.uint32("max_frame_size", out.max_frame_size, 16384, 16777215); !e.empty()) return e;
  if (auto e = sluice.uint32("max_stream_resets_per_second", out.max_stream_resets_per_second, 1, 1u << 20);
      !e.empty())
    return e;
  return sluice.uint32("max_stream_resets_burst", out.max_stream_resets_burst, 1, 1u << 20);
}

FieldError idleTimeoutFromEnvoy(const core::HttpProtocolOptions& in, const std::string& path, config::Duration& out) {
  if (!in.has_idle_timeout()) return {};
  const std::string p = fieldPath(path, "idle_timeout");
  config::Duration d{};
  if (!fromProto(in.idle_timeout(), d)) return {p, "invalid duration"};
  if (d <= config::Duration::zero())
    return {p, "Sluice always closes idle pooled connections: give a duration of at least 1ms"};
  out = d;
  return {};
}

FieldError optionsFromEnvoy(const HttpProtocolOptions& o, const std::string& path, const StructFields& sluice,
                            config::ClusterConfig& out) {
  auto p = [&](std::string_view f) { return fieldPath(path, f); };
  if (o.http_filters_size() > 0) return {p("http_filters"), "upstream HTTP filters are not supported"};
  if (o.has_header_validation_config()) return {p("header_validation_config"), "not supported"};
  if (o.has_common_http_protocol_options())
    if (auto e = idleTimeoutFromEnvoy(o.common_http_protocol_options(), p("common_http_protocol_options"),
                                      out.idle_timeout);
        !e.empty())
      return e;
  switch (o.upstream_protocol_options_case()) {
    case HttpProtocolOptions::kExplicitHttpConfig: {
      const auto& x = o.explicit_http_config();
      const std::string xp = p("explicit_http_config");
      if (x.has_http2_protocol_options()) {
        out.protocol = config::UpstreamProtocol::Http2;
        return http2FromEnvoy(x.http2_protocol_options(), fieldPath(xp, "http2_protocol_options"), sluice, out.http2);
      }
      if (x.has_http3_protocol_options())
        return {fieldPath(xp, "http3_protocol_options"), "HTTP/3 upstreams are not supported"};
      out.protocol = config::UpstreamProtocol::Http1;
      return {};
    }
    case HttpProtocolOptions::kAutoConfig: {
      const auto& a = o.auto_config();
      if (a.has_http3_protocol_options())
        return {p("auto_config.http3_protocol_options"), "HTTP/3 upstreams are not supported"};
      out.protocol = config::UpstreamProtocol::Auto;
      return http2FromEnvoy(a.http2_protocol_options(), p("auto_config.http2_protocol_options"), sluice, out.http2);
    }
    case HttpProtocolOptions::kUseDownstreamProtocolConfig:
      return {p("use_downstream_protocol_config"),
              "Sluice does not follow the downstream protocol: use explicit_http_config or auto_config"};
    default: return {p("upstream_protocol_options"), "missing: give explicit_http_config or auto_config"};
  }
}

}  // namespace

void protocolToEnvoy(const config::ClusterConfig& c, cluster::Cluster& out, google::protobuf::Struct& sluice) {
  HttpProtocolOptions o;
  toProto(c.idle_timeout, *o.mutable_common_http_protocol_options()->mutable_idle_timeout());
  switch (c.protocol) {
    case config::UpstreamProtocol::Http1:
      o.mutable_explicit_http_config()->mutable_http_protocol_options();
      break;
    case config::UpstreamProtocol::Http2:
      http2ToEnvoy(c.http2, *o.mutable_explicit_http_config()->mutable_http2_protocol_options(), sluice);
      break;
    case config::UpstreamProtocol::Auto:
      o.mutable_auto_config()->mutable_http_protocol_options();
      http2ToEnvoy(c.http2, *o.mutable_auto_config()->mutable_http2_protocol_options(), sluice);
      break;
  }
  (*out.mutable_typed_extension_protocol_options())[kProtocolOptionsKey].PackFrom(o);
}

FieldError protocolFromEnvoy(const cluster::Cluster& in, const StructFields& sluice, config::ClusterConfig& out) {
  // Envoy's default: idle upstream connections close after an hour.
  out.idle_timeout = std::chrono::hours(1);
  out.protocol = config::UpstreamProtocol::Http1;
  const auto& opts = in.typed_extension_protocol_options();
  if (const auto it = opts.find(kProtocolOptionsKey); it != opts.end()) {
    const std::string path = std::string("typed_extension_protocol_options[\"") + kProtocolOptionsKey + "\"]";
    HttpProtocolOptions o;
    if (!it->second.UnpackTo(&o))
      return {path, "expected an envoy.extensions.upstreams.http.v3.HttpProtocolOptions, got " + it->second.type_url()};
    return optionsFromEnvoy(o, path, sluice, out);
  }
// Reading the deprecated fields is the point here: older servers still send them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (in.has_common_http_protocol_options())
    if (auto e = idleTimeoutFromEnvoy(in.common_http_protocol_options(), "common_http_protocol_options",
                                      out.idle_timeout);
        !e.empty())
      return e;
  if (in.has_http2_protocol_options()) {
    out.protocol = config::UpstreamProtocol::Http2;
    return http2FromEnvoy(in.http2_protocol_options(), "http2_protocol_options", sluice, out.http2);
  }
#pragma GCC diagnostic pop

  return {};
}

}  // namespace sluice::xds
