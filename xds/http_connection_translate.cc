#include "xds/http_connection_translate.h"

#include <algorithm>

#include "xds/cluster_metadata.h"
#include "xds/http_filters_translate.h"
#include "xds/route_translate.h"
#include "xds/sluice_metadata.h"
#include "xds/unsupported_fields.h"

namespace sluice::xds {
namespace {

using config::EscapedSlashes;
using config::ForwardClientCert;
using config::HttpCodec;
using google::protobuf::Struct;
using nlohmann::json;
using HCM = envoy_hcm::HttpConnectionManager;

HCM::PathWithEscapedSlashesAction escapedTo(EscapedSlashes a) {
  switch (a) {
    case EscapedSlashes::Keep: return HCM::KEEP_UNCHANGED;
    case EscapedSlashes::UnescapeAndRedirect: return HCM::UNESCAPE_AND_REDIRECT;
    case EscapedSlashes::UnescapeAndForward: return HCM::UNESCAPE_AND_FORWARD;
    case EscapedSlashes::Reject: break;
  }
  return HCM::REJECT_REQUEST;
}

HCM::ForwardClientCertDetails fccTo(ForwardClientCert f) {
  switch (f) {
    case ForwardClientCert::ForwardOnly: return HCM::FORWARD_ONLY;
    case ForwardClientCert::AppendForward: return HCM::APPEND_FORWARD;
    case ForwardClientCert::SanitizeSet: return HCM::SANITIZE_SET;
    case ForwardClientCert::Sanitize: break;
  }
  return HCM::SANITIZE;
}

// The settings with no Envoy field, where they differ from the defaults.
json extrasOf(const filters::http_cm::Spec& s) {
  const config::HttpConnectionSettings d;
  json j = json::object();
  if (s.max_uri_bytes != d.max_uri_bytes) j["max_uri_bytes"] = s.max_uri_bytes;
  if (s.max_request_body_mib != d.max_request_body_mib) j["max_request_body_mib"] = s.max_request_body_mib;
  if (s.buffer_limit_bytes != d.buffer_limit_bytes) j["buffer_limit_bytes"] = s.buffer_limit_bytes;
  if (s.max_request_headers_bytes % 1024 != 0) j["max_request_headers_bytes"] = s.max_request_headers_bytes;
  if (s.reject_backslash != d.reject_backslash) j["reject_backslash"] = s.reject_backslash;
  if (s.reject_path_parameters_dot_segments != d.reject_path_parameters_dot_segments)
    j["reject_path_parameters_dot_segments"] = s.reject_path_parameters_dot_segments;
  if (s.reject_overlong_utf8 != d.reject_overlong_utf8) j["reject_overlong_utf8"] = s.reject_overlong_utf8;
  if (!s.original_path_header.empty()) j["original_path_header"] = s.original_path_header;
  json h2 = json::object();
  if (s.http2.max_frame_size != d.http2.max_frame_size) h2["max_frame_size"] = s.http2.max_frame_size;
  if (s.http2.max_stream_resets_per_second != d.http2.max_stream_resets_per_second)
    h2["max_stream_resets_per_second"] = s.http2.max_stream_resets_per_second;
  if (s.http2.max_stream_resets_burst != d.http2.max_stream_resets_burst)
    h2["max_stream_resets_burst"] = s.http2.max_stream_resets_burst;
  if (s.http2.keepalive_interval.count() == 0 && s.http2.keepalive_timeout != d.http2.keepalive_timeout)
    h2["keepalive_timeout_ms"] = s.http2.keepalive_timeout.count();
  if (!h2.empty()) j["http2"] = h2;
  if (!s.access_logs.empty()) {
    json logs = json::array();
    for (const auto& l : s.access_logs) logs.push_back({{"path", l.path}, {"format", l.format}});
    j["access_logs"] = logs;
  }
  return j;
}

const google::protobuf::Value* field(const Struct* s, const char* name) {
  if (s == nullptr) return nullptr;
  const auto it = s->fields().find(name);
  return it == s->fields().end() ? nullptr : &it->second;
}

// A count from io.sluice metadata, within [lo, hi].
FieldError countFrom(const Struct* s, const char* name, std::string_view path, uint32_t lo, uint32_t hi,
                     uint32_t& out) {
  const auto* v = field(s, name);
  if (v == nullptr) return {};
  const double d = v->number_value();
  if (!v->has_number_value() || !(d >= lo && d <= hi) || d != static_cast<double>(static_cast<uint64_t>(d)))
    return {fieldPath(path, name), "must be a whole number in " + std::to_string(lo) + ".." + std::to_string(hi)};
  out = static_cast<uint32_t>(d);
  return {};
}

FieldError boolFrom(const Struct* s, const char* name, std::string_view path, bool& out) {
  const auto* v = field(s, name);
  if (v == nullptr) return {};
  if (!v->has_bool_value()) return {fieldPath(path, name), "must be true or false"};
  out = v->bool_value();
  return {};
}

FieldError extrasFrom(const Struct* x, std::string_view path, filters::http_cm::Spec& s) {
  if (x == nullptr) return {};
  FieldError e = StructFields(x, std::string(path))
                     .onlyKeys({"max_uri_bytes", "max_request_body_mib", "buffer_limit_bytes",
                                "max_request_headers_bytes", "reject_backslash", "reject_path_parameters_dot_segments",
                                "reject_overlong_utf8", "original_path_header", "http2", "access_logs"});
  if (!e.empty()) return e;
  if (!(e = countFrom(x, "max_uri_bytes", path, 64, 1u << 20, s.max_uri_bytes)).empty()) return e;
  if (!(e = countFrom(x, "max_request_body_mib", path, 0, 1u << 20, s.max_request_body_mib)).empty()) return e;
  if (!(e = countFrom(x, "buffer_limit_bytes", path, 1024, 64u << 20, s.buffer_limit_bytes)).empty()) return e;
  if (!(e = countFrom(x, "max_request_headers_bytes", path, 1024, 1024 * 1024, s.max_request_headers_bytes)).empty())
    return e;
  if (!(e = boolFrom(x, "reject_backslash", path, s.reject_backslash)).empty()) return e;
  if (!(e = boolFrom(x, "reject_path_parameters_dot_segments", path, s.reject_path_parameters_dot_segments)).empty())
    return e;
  if (!(e = boolFrom(x, "reject_overlong_utf8", path, s.reject_overlong_utf8)).empty()) return e;
  if (const auto* v = field(x, "original_path_header")) s.original_path_header = v->string_value();
  if (const auto* v = field(x, "http2"); v != nullptr && v->has_struct_value()) {
    const Struct* h2 = &v->struct_value();
    const std::string p = fieldPath(path, "http2");
    if (!(e = StructFields(h2, p).onlyKeys({"max_frame_size", "max_stream_resets_per_second",
                                            "max_stream_resets_burst", "keepalive_timeout_ms"}))
             .empty())
      return e;
    if (!(e = countFrom(h2, "max_frame_size", p, 16384, 16777215, s.http2.max_frame_size)).empty()) return e;
    if (!(e = countFrom(h2, "max_stream_resets_per_second", p, 1, 1u << 20, s.http2.max_stream_resets_per_second))
             .empty())
      return e;
    if (!(e = countFrom(h2, "max_stream_resets_burst", p, 1, 1u << 20, s.http2.max_stream_resets_burst)).empty())
      return e;
    uint32_t t = 0;
    if (field(h2, "keepalive_timeout_ms") != nullptr) {
      if (!(e = countFrom(h2, "keepalive_timeout_ms", p, 1, UINT32_MAX, t)).empty()) return e;
      s.http2.keepalive_timeout = config::Duration(t);
    }
  }
  if (const auto* v = field(x, "access_logs"); v != nullptr && v->has_list_value()) {
    for (const auto& item : v->list_value().values()) {
      filters::http_cm::AccessLogSpec l;
      const Struct* ls = item.has_struct_value() ? &item.struct_value() : nullptr;
      if (const auto* p = field(ls, "path")) l.path = p->string_value();
      if (const auto* f = field(ls, "format")) l.format = f->string_value();
      if (l.path.empty()) return {fieldPath(path, "access_logs"), "each needs a path"};
      s.access_logs.push_back(std::move(l));
    }
  }
  return {};
}

FieldError durationFrom(const google::protobuf::Duration& d, std::string_view path, config::Duration& out) {
  if (!fromProto(d, out)) return {std::string(path), "invalid duration"};
  return {};
}

FieldError http2From(const envoy::config::core::v3::Http2ProtocolOptions& in, std::string_view path,
                     config::Http2Settings& h2) {
  if (auto e = unsupportedField(in, path,
                                {"max_concurrent_streams", "initial_stream_window_size",
                                 "initial_connection_window_size", "connection_keepalive", "hpack_table_size"});
      !e.empty())
    return e;
  if (in.has_max_concurrent_streams()) {
    if (in.max_concurrent_streams().value() == 0) return {fieldPath(path, "max_concurrent_streams"), "must be > 0"};
    // Envoy configs say 2147483647 for "no limit": the model's maximum, which no client reaches.
    h2.max_concurrent_streams = std::min<uint32_t>(in.max_concurrent_streams().value(), 1u << 20);
  }
  if (in.has_initial_stream_window_size()) {
    const uint32_t v = in.initial_stream_window_size().value();
    if (v < 65535 || v > 2147483647) return {fieldPath(path, "initial_stream_window_size"), "must be 65535..2^31-1"};
    h2.initial_stream_window_size = v;
  }
  if (in.has_initial_connection_window_size()) {
    const uint32_t v = in.initial_connection_window_size().value();
    if (v < 65535 || v > 2147483647)
      return {fieldPath(path, "initial_connection_window_size"), "must be 65535..2^31-1"};
    h2.initial_connection_window_size = v;
  }
  if (in.has_connection_keepalive()) {
    const auto& k = in.connection_keepalive();
    const std::string kp = fieldPath(path, "connection_keepalive");
    if (auto e = unsupportedField(k, kp, {"interval", "timeout"}); !e.empty()) return e;
    if (auto e = durationFrom(k.interval(), fieldPath(kp, "interval"), h2.keepalive_interval); !e.empty()) return e;
    if (k.has_timeout())
      if (auto e = durationFrom(k.timeout(), fieldPath(kp, "timeout"), h2.keepalive_timeout); !e.empty()) return e;
  }
  return {};
}

}  // namespace

void httpConnectionToEnvoy(const filters::http_cm::Spec& s, const std::string& stat_prefix, HCM& out,
                           Struct& chain_sluice) {
  out.set_stat_prefix(stat_prefix);
  switch (s.codec) {
    case HttpCodec::Http1: out.set_codec_type(HCM::HTTP1); break;
    case HttpCodec::Http2: out.set_codec_type(HCM::HTTP2); break;
    case HttpCodec::Auto: out.set_codec_type(HCM::AUTO); break;
  }
  auto* h2 = out.mutable_http2_protocol_options();
  h2->mutable_max_concurrent_streams()->set_value(s.http2.max_concurrent_streams);
  h2->mutable_initial_stream_window_size()->set_value(s.http2.initial_stream_window_size);
  h2->mutable_initial_connection_window_size()->set_value(s.http2.initial_connection_window_size);
  if (s.http2.keepalive_interval.count() > 0) {
    toProto(s.http2.keepalive_interval, *h2->mutable_connection_keepalive()->mutable_interval());
    toProto(s.http2.keepalive_timeout, *h2->mutable_connection_keepalive()->mutable_timeout());
  }
  auto* rds = out.mutable_rds();
  rds->mutable_config_source()->mutable_ads();
  rds->mutable_config_source()->set_resource_api_version(envoy::config::core::v3::V3);
  rds->set_route_config_name(s.route_config_name);
  toProto(s.request_headers_timeout, *out.mutable_request_headers_timeout());
  toProto(s.stream_idle_timeout, *out.mutable_stream_idle_timeout());
  auto* common = out.mutable_common_http_protocol_options();
  toProto(s.idle_timeout, *common->mutable_idle_timeout());
  common->mutable_max_headers_count()->set_value(s.max_headers_count);
  if (s.max_stream_duration.count() > 0) toProto(s.max_stream_duration, *common->mutable_max_stream_duration());
  out.mutable_max_request_headers_kb()->set_value((s.max_request_headers_bytes + 1023) / 1024);
  out.mutable_normalize_path()->set_value(s.normalize_path);
  out.set_merge_slashes(s.merge_slashes);
  out.set_path_with_escaped_slashes_action(escapedTo(s.path_with_escaped_slashes));
  out.set_xff_num_trusted_hops(s.xff_num_trusted_hops);
  out.mutable_generate_request_id()->set_value(s.generate_request_id);
  out.set_forward_client_cert_details(fccTo(s.forward_client_cert_details));

  Struct filter_extras;
  for (size_t i = 0; i < s.http_filters.size(); ++i) {
    int instance = 0;
    for (size_t j = 0; j < i; ++j) instance += s.http_filters[j].name == s.http_filters[i].name;
    httpFilterToEnvoy(s.http_filters[i], *out.add_http_filters(), filter_extras, instance);
  }
  routerToEnvoy(*out.add_http_filters());
  if (!filter_extras.fields().empty())
    (*chain_sluice.mutable_fields())["http_filters"].mutable_struct_value()->Swap(&filter_extras);
  if (json x = extrasOf(s); !x.empty()) (*chain_sluice.mutable_fields())["http"] = toStructValue(x);
}

FieldError httpConnectionFromEnvoy(const HCM& in, std::string_view path, const Struct* chain_sluice,
                                   const std::string& scope_name, filters::http_cm::Spec& s,
                                   std::vector<config::RouteConfigEntry>& inline_routes) {
  // Accepted and ignored: what only names statistics, adds tracing or
  // logging Sluice does not do, or restates what Sluice does anyway.
  if (auto e = unsupportedField(
          in, path,
          {"codec_type", "stat_prefix", "rds", "route_config", "http_filters", "common_http_protocol_options",
           "http_protocol_options", "http2_protocol_options", "max_request_headers_kb", "stream_idle_timeout",
           "request_headers_timeout", "normalize_path", "merge_slashes", "path_with_escaped_slashes_action",
           "xff_num_trusted_hops", "generate_request_id", "forward_client_cert_details",
           "set_current_client_cert_details", "use_remote_address", "tracing", "access_log", "server_name",
           "add_user_agent", "strip_matching_host_port", "internal_address_config", "request_id_extension",
           "preserve_external_request_id", "always_set_request_id_in_response", "delayed_close_timeout",
           "drain_timeout", "stream_error_on_invalid_http_message"});
      !e.empty())
    return e;
  switch (in.codec_type()) {
    case HCM::AUTO: s.codec = HttpCodec::Auto; break;
    case HCM::HTTP1: s.codec = HttpCodec::Http1; break;
    case HCM::HTTP2: s.codec = HttpCodec::Http2; break;
    default: return {fieldPath(path, "codec_type"), HCM::CodecType_Name(in.codec_type()) + " is not supported by Sluice"};
  }
  if (in.has_http_protocol_options())
    if (auto e = unsupportedField(in.http_protocol_options(), fieldPath(path, "http_protocol_options"), {});
        !e.empty())
      return e;
  if (in.has_http2_protocol_options())
    if (auto e = http2From(in.http2_protocol_options(), fieldPath(path, "http2_protocol_options"), s.http2);
        !e.empty())
      return e;

  // Routes: RDS over ADS, or inline.
  if (in.has_rds()) {
    const auto& rds = in.rds();
    const std::string rp = fieldPath(path, "rds");
    const auto& cs = rds.config_source();
    if (!cs.has_ads() && !cs.has_self())
      return {fieldPath(rp, "config_source"), "Sluice takes routes over ADS only (ads or self)"};
    if (rds.route_config_name().empty()) return {fieldPath(rp, "route_config_name"), "required"};
    s.route_config_name = rds.route_config_name();
  } else if (in.has_route_config()) {
    config::RouteConfigEntry e;
    envoy::config::route::v3::RouteConfiguration rc = in.route_config();
    if (rc.name().empty()) rc.set_name(scope_name);
    if (auto err = routeConfigFromEnvoy(rc, e); !err.empty())
      return {fieldPath(fieldPath(path, "route_config"), err.path), err.message};
    e.path = std::string(path) + ".route_config";
    s.route_config_name = e.name;
    inline_routes.push_back(std::move(e));
  } else {
    return {std::string(path), "needs rds or route_config (scoped routes are not supported by Sluice)"};
  }

  if (in.has_stream_idle_timeout())
    if (auto e = durationFrom(in.stream_idle_timeout(), fieldPath(path, "stream_idle_timeout"), s.stream_idle_timeout);
        !e.empty())
      return e;
  if (in.has_request_headers_timeout())
    if (auto e = durationFrom(in.request_headers_timeout(), fieldPath(path, "request_headers_timeout"),
                              s.request_headers_timeout);
        !e.empty())
      return e;
  if (in.has_common_http_protocol_options()) {
    const auto& c = in.common_http_protocol_options();
    const std::string cp = fieldPath(path, "common_http_protocol_options");
    if (auto e = unsupportedField(c, cp, {"idle_timeout", "max_headers_count", "max_stream_duration"}); !e.empty())
      return e;
    if (c.has_idle_timeout())
      if (auto e = durationFrom(c.idle_timeout(), fieldPath(cp, "idle_timeout"), s.idle_timeout); !e.empty()) return e;
    if (c.has_max_headers_count()) {
      if (c.max_headers_count().value() == 0 || c.max_headers_count().value() > 10000)
        return {fieldPath(cp, "max_headers_count"), "Sluice takes 1..10000"};
      s.max_headers_count = c.max_headers_count().value();
    }
    if (c.has_max_stream_duration())
      if (auto e = durationFrom(c.max_stream_duration(), fieldPath(cp, "max_stream_duration"), s.max_stream_duration);
          !e.empty())
        return e;
  }
  if (in.has_max_request_headers_kb()) {
    const uint32_t kb = in.max_request_headers_kb().value();
    if (kb == 0 || kb > 1024) return {fieldPath(path, "max_request_headers_kb"), "Sluice takes 1..1024"};
    s.max_request_headers_bytes = kb * 1024;
  }
  if (in.has_normalize_path()) s.normalize_path = in.normalize_path().value();
  s.merge_slashes = in.merge_slashes();
  switch (in.path_with_escaped_slashes_action()) {
    case HCM::IMPLEMENTATION_SPECIFIC_DEFAULT:
    case HCM::REJECT_REQUEST: s.path_with_escaped_slashes = EscapedSlashes::Reject; break;
    case HCM::KEEP_UNCHANGED: s.path_with_escaped_slashes = EscapedSlashes::Keep; break;
    case HCM::UNESCAPE_AND_REDIRECT: s.path_with_escaped_slashes = EscapedSlashes::UnescapeAndRedirect; break;
    case HCM::UNESCAPE_AND_FORWARD: s.path_with_escaped_slashes = EscapedSlashes::UnescapeAndForward; break;
    default: return {fieldPath(path, "path_with_escaped_slashes_action"), "unknown value"};
  }
  if (in.xff_num_trusted_hops() > 16) return {fieldPath(path, "xff_num_trusted_hops"), "Sluice takes 0..16"};
  s.xff_num_trusted_hops = in.xff_num_trusted_hops();
  if (in.has_generate_request_id()) s.generate_request_id = in.generate_request_id().value();
  switch (in.forward_client_cert_details()) {
    case HCM::SANITIZE: s.forward_client_cert_details = ForwardClientCert::Sanitize; break;
    case HCM::FORWARD_ONLY: s.forward_client_cert_details = ForwardClientCert::ForwardOnly; break;
    case HCM::APPEND_FORWARD: s.forward_client_cert_details = ForwardClientCert::AppendForward; break;
    case HCM::SANITIZE_SET: s.forward_client_cert_details = ForwardClientCert::SanitizeSet; break;
    default:
      return {fieldPath(path, "forward_client_cert_details"),
              HCM::ForwardClientCertDetails_Name(in.forward_client_cert_details()) + " is not supported by Sluice"};
  }

  // The chain's metadata: "filter_chains[0]" of ".filters[0].typed_config".
  const std::string chain_path(path.substr(0, path.rfind(".filters[")));
  const auto* http_x = field(chain_sluice, "http");
  if (auto e = extrasFrom(http_x && http_x->has_struct_value() ? &http_x->struct_value() : nullptr,
                          fieldPath(chain_path, "metadata.io.sluice.http"), s);
      !e.empty())
    return e;

  // Filters: the router last and only last.
  const auto* filters_x = field(chain_sluice, "http_filters");
  const Struct* fx = filters_x && filters_x->has_struct_value() ? &filters_x->struct_value() : nullptr;
  const std::string fp = fieldPath(path, "http_filters");
  bool router = false;
  for (int i = 0; i < in.http_filters_size(); ++i) {
    const std::string p = indexPath(fp, i);
    if (router) return {p, "the router must be the last HTTP filter"};
    HttpFilterRead r;
    if (auto e = httpFilterFromEnvoy(in.http_filters(i), p, fx, r); !e.empty()) return e;
    if (r.kind == HttpFilterRead::Kind::Router) router = true;
    else if (r.kind == HttpFilterRead::Kind::Filter) s.http_filters.push_back(std::move(r.spec));
  }
  if (!router) return {fp, "the router (envoy.extensions.filters.http.router.v3.Router) must be the last HTTP filter"};
  // A spec for a filter the chain does not have would be dropped unseen.
  if (fx != nullptr)
    for (const auto& field : fx->fields()) {
      const std::string& name = field.first;
      const bool listed = std::any_of(in.http_filters().begin(), in.http_filters().end(),
                                      [&](const envoy_hcm::HttpFilter& f) { return f.name() == name; });
      if (!listed) return {fieldPath(chain_path, "metadata.io.sluice.http_filters." + name), "no HTTP filter of that name"};
    }
  return {};
}

}  // namespace sluice::xds
