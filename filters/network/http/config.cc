#include "filters/network/http/config.h"

#include <algorithm>

#include "config/access_log_format.h"
#include "config/cluster_reader.h"
#include "config/config_json.h"
#include "config/field_reader.h"
#include "config/route_config.h"
#include "config/yaml_reader.h"

namespace sluice::filters::http_cm {
namespace {

// The router's key in a dump: it is not configured, but every chain has it last.
constexpr std::string_view kRouter = "router";

void readAccessLogs(config::MapReader& r, Spec& spec) {
  const YAML::Node list = r.child("access_log");
  if (!list.IsDefined()) return;
  const std::string path = r.childPath("access_log");
  // One mapping, or a list of them.
  auto one = [&](const YAML::Node& n, const std::string& p) {
    config::MapReader lr(r.ctx(), n, p);
    if (!lr.isMap()) return;
    AccessLogSpec a;
    lr.string("path", a.path, /*required=*/true);
    lr.string("format", a.format);
    std::string why;
    if (!config::parseAccessLogFormat(a.format, &why)) lr.ctx().error(lr.locOf("format"), lr.childPath("format"), why);
    lr.finish();
    spec.access_logs.push_back(std::move(a));
  };
  if (list.IsSequence()) {
    for (size_t i = 0; i < list.size(); ++i) one(list[i], path + "[" + std::to_string(i) + "]");
  } else {
    one(list, path);
  }
}

void readHttpFilters(config::MapReader& r, Spec& spec) {
  const YAML::Node list = r.child("http_filters");
  if (!list.IsDefined()) return;
  const std::string path = r.childPath("http_filters");
  if (!list.IsSequence()) {
    r.ctx().error(list, path, "expected a list");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ipath = path + "[" + std::to_string(i) + "]";
    const YAML::Node item = list[i];
    if (!item.IsMap() || item.size() != 1) {
      r.ctx().error(item, ipath, "expected a mapping with one key: the filter name");
      continue;
    }
    const std::string name = item.begin()->first.Scalar();
    if (name == kRouter) {
      r.ctx().error(item.begin()->first, ipath, "the router is always the last filter and is added implicitly");
      continue;
    }
    const auto* reader = config::findHttpFilterReader(name);
    if (reader == nullptr) {
      r.ctx().error(item.begin()->first, ipath, "unknown http filter '" + name + "'");
      continue;
    }
    config::MapReader fr(r.ctx(), item.begin()->second, ipath + "." + name);
    if (!fr.isMap()) continue;
    spec.http_filters.push_back({name, reader, reader->read(fr)});
  }
}

// `route_config:` inline (lifted into the config's named route tables) or
// `route_config_name:`; exactly one.
void readRouteConfigRef(config::MapReader& r, Spec& spec) {
  const bool by_name = r.has("route_config_name");
  if (r.has("route_config")) {
    if (by_name) {
      r.child("route_config_name");  // reported here, not as unknown
      r.ctx().error(r.locOf("route_config_name"), r.childPath("route_config_name"),
                    "give route_config or route_config_name, not both");
    }
    config::MapReader rr(r.ctx(), r.child("route_config"), r.childPath("route_config"));
    if (!rr.isMap()) return;
    config::RouteConfigEntry e;
    e.name = r.ctx().scopeName();
    if (rr.has("name")) config::readName(rr, e.name);
    e.path = rr.path();
    e.loc = r.locOf("route_config");
    e.spec = config::readRouteConfig(rr);
    spec.route_config_name = e.name;
    spec.route_config_loc = e.loc;
    r.ctx().inlineRouteConfigs().push_back(std::move(e));
  } else if (by_name) {
    r.string("route_config_name", spec.route_config_name);
    spec.route_config_loc = r.locOf("route_config_name");
  } else {
    r.ctx().error(r.node(), r.childPath("route_config"), "missing required field (or route_config_name)");
  }
}

void readForwardClientCert(config::MapReader& r, Spec& spec) {
  if (!r.has("forward_client_cert_details")) return;
  std::string mode;
  r.string("forward_client_cert_details", mode);
  if (auto m = config::parseForwardClientCert(mode)) spec.forward_client_cert_details = *m;
  else if (r.child("forward_client_cert_details").IsScalar())
    r.ctx().error(r.locOf("forward_client_cert_details"), r.childPath("forward_client_cert_details"),
                  "must be sanitize, forward_only, append_forward or sanitize_set");
}

// A field the upstream reads as something else (framing, connection
// management, the authority) must not be overwritten with a client's path.
void readOriginalPathHeader(config::MapReader& r, Spec& spec) {
  constexpr std::string_view kKey = "original_path_header";
  if (!r.has(kKey)) return;
  r.string(kKey, spec.original_path_header);
  const std::string& name = spec.original_path_header;
  if (name.empty()) return;  // off, as when absent
  if (!config::isHttpToken(name)) {
    r.ctx().error(r.locOf(kKey), r.childPath(kKey), "invalid header name '" + name + "'");
    return;
  }
  for (std::string_view reserved : {"host", "content-length", "transfer-encoding", "connection", "keep-alive",
                                    "proxy-connection", "te", "upgrade", "trailer", "expect",
                                    // the proxy's own request metadata, which the path would replace
                                    "x-request-id", "x-forwarded-for", "x-forwarded-proto",
                                    "x-forwarded-client-cert"}) {
    if (name.size() == reserved.size() &&
        std::equal(name.begin(), name.end(), reserved.begin(),
                   [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a + 32 : a) == b; })) {
      r.ctx().error(r.locOf(kKey), r.childPath(kKey), "'" + name + "' is not a field this proxy may set");
      return;
    }
  }
}

void readPathNormalization(config::MapReader& r, Spec& spec) {
  r.boolean("normalize_path", spec.normalize_path);
  r.boolean("merge_slashes", spec.merge_slashes);
  r.boolean("reject_backslash", spec.reject_backslash);
  r.boolean("reject_path_parameters_dot_segments", spec.reject_path_parameters_dot_segments);
  r.boolean("reject_overlong_utf8", spec.reject_overlong_utf8);
  readOriginalPathHeader(r, spec);
  if (!r.has("path_with_escaped_slashes")) return;
  std::string action;
  r.string("path_with_escaped_slashes", action);
  if (auto a = config::parseEscapedSlashes(action)) spec.path_with_escaped_slashes = *a;
  else if (r.child("path_with_escaped_slashes").IsScalar())
    r.ctx().error(r.locOf("path_with_escaped_slashes"), r.childPath("path_with_escaped_slashes"),
                  "must be reject, keep, unescape_and_redirect or unescape_and_forward");
}

void readCodec(config::MapReader& r, Spec& spec) {
  if (!r.has("codec")) return;
  std::string name;
  r.string("codec", name);
  if (auto c = config::parseHttpCodec(name)) spec.codec = *c;
  else if (r.child("codec").IsScalar())
    r.ctx().error(r.locOf("codec"), r.childPath("codec"), "must be auto, http1 or http2");
}

class Reader final : public config::NetworkFilterReader {
 public:
  std::string_view name() const override { return "http"; }
  bool terminal() const override { return true; }

  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    auto spec = std::make_shared<Spec>();
    r.uint32("max_request_headers_bytes", spec->max_request_headers_bytes, 1024, 1024 * 1024);
    r.uint32("max_uri_bytes", spec->max_uri_bytes, 64, 1024 * 1024);
    r.uint32("max_headers_count", spec->max_headers_count, 1, 10000);
    r.uint32("max_request_body_mib", spec->max_request_body_mib, 0, 1024 * 1024);
    r.duration("request_headers_timeout", spec->request_headers_timeout);
    r.duration("stream_idle_timeout", spec->stream_idle_timeout);
    r.duration("max_stream_duration", spec->max_stream_duration);
    r.duration("idle_timeout", spec->idle_timeout);
    r.uint32("buffer_limit_bytes", spec->buffer_limit_bytes, 1024, 64u << 20);
    r.uint32("xff_num_trusted_hops", spec->xff_num_trusted_hops, 0, 16);
    r.boolean("generate_request_id", spec->generate_request_id);
    readCodec(r, *spec);
    config::readHttp2Settings(r, "http2", spec->http2);
    readForwardClientCert(r, *spec);
    readPathNormalization(r, *spec);
    readRouteConfigRef(r, *spec);
    readHttpFilters(r, *spec);
    readAccessLogs(r, *spec);
    r.finish();
    return spec;
  }

  // The listener's route table against its filters (a table shared by
  // several listeners is checked against each), and each filter's own checks.
  void validate(const config::FilterSpec& base, const config::Config& whole, std::string_view path,
                config::ParseContext& ctx) const override {
    const auto& spec = static_cast<const Spec&>(base);
    std::vector<std::string> chain;
    for (const auto& f : spec.http_filters) chain.push_back(f.name);
    chain.emplace_back(kRouter);
    if (const auto* rc = whole.findRouteConfig(spec.route_config_name)) {
      config::validateRouteConfig(*rc->spec, whole, rc->path, ctx, chain);
    } else if (!spec.route_config_name.empty()) {
      ctx.missingReference(spec.route_config_loc, std::string(path) + ".route_config_name",
                           "unknown route config '" + spec.route_config_name + "'");
    }
    for (size_t i = 0; i < spec.http_filters.size(); ++i) {
      const auto& f = spec.http_filters[i];
      if (f.spec)
        f.reader->validate(*f.spec, whole, std::string(path) + ".http_filters[" + std::to_string(i) + "]." + f.name,
                           ctx);
    }
  }
};

}  // namespace

std::vector<std::string> Spec::applicationProtocols() const {
  switch (codec) {
    case config::HttpCodec::Auto: return {"h2", "http/1.1"};
    case config::HttpCodec::Http1: return {"http/1.1"};
    case config::HttpCodec::Http2: return {"h2"};
  }
  return {};
}

nlohmann::json Spec::toJson() const {
  nlohmann::json filters = nlohmann::json::array();
  for (const auto& f : http_filters)
    filters.push_back({{"name", f.name}, {"config", f.spec ? f.spec->toJson() : nlohmann::json::object()}});
  filters.push_back({{"name", kRouter}, {"config", nlohmann::json::object()}});
  nlohmann::json logs = nlohmann::json::array();
  for (const auto& a : access_logs) logs.push_back({{"path", a.path}, {"format", a.format}});
  return {{"codec", config::httpCodecName(codec)},
          {"http2", config::toJson(http2)},
          {"max_request_headers_bytes", max_request_headers_bytes},
          {"max_uri_bytes", max_uri_bytes},
          {"max_headers_count", max_headers_count},
          {"max_request_body_mib", max_request_body_mib},
          {"request_headers_timeout", config::durationString(request_headers_timeout)},
          {"stream_idle_timeout", config::durationString(stream_idle_timeout)},
          {"max_stream_duration", config::durationString(max_stream_duration)},
          {"idle_timeout", config::durationString(idle_timeout)},
          {"buffer_limit_bytes", buffer_limit_bytes},
          {"xff_num_trusted_hops", xff_num_trusted_hops},
          {"generate_request_id", generate_request_id},
          {"forward_client_cert_details", config::forwardClientCertName(forward_client_cert_details)},
          {"normalize_path", normalize_path},
          {"merge_slashes", merge_slashes},
          {"path_with_escaped_slashes", config::escapedSlashesName(path_with_escaped_slashes)},
          {"reject_backslash", reject_backslash},
          {"reject_path_parameters_dot_segments", reject_path_parameters_dot_segments},
          {"reject_overlong_utf8", reject_overlong_utf8},
          {"original_path_header", original_path_header},
          {"route_config_name", route_config_name},
          {"http_filters", filters},
          {"access_log", logs}};
}

const config::NetworkFilterReader& reader() {
  static const Reader r;
  return r;
}

}  // namespace sluice::filters::http_cm
