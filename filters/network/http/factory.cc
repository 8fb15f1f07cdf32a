#include "config/filter_spec.h"
#include "config/cluster_reader.h"
#include "config/config_json.h"
#include "config/yaml_reader.h"
#include "filters/http/router/router.h"
#include "filters/network/http/config.h"
#include "proxy/http/connection_manager.h"

namespace sluice::filters::http_cm {
namespace {

void parseAccessLogs(config::MapReader& r, HttpConfig& cfg) {
  const YAML::Node list = r.child("access_log");
  if (!list.IsDefined()) return;
  const std::string path = r.childPath("access_log");
  // One mapping, or a list of them.
  auto one = [&](const YAML::Node& n, const std::string& p) {
    config::MapReader lr(r.ctx(), n, p);
    if (!lr.isMap()) return;
    AccessLogConfig a;
    lr.string("path", a.path, /*required=*/true);
    a.format = "json";
    lr.string("format", a.format);
    std::string why;
    a.formatter = sluice::http::AccessLogFormatter::create(a.format, &why);
    if (!a.formatter) lr.ctx().error(lr.locOf("format"), lr.childPath("format"), why);
    lr.finish();
    cfg.access_logs.push_back(std::move(a));
  };
  if (list.IsSequence()) {
    for (size_t i = 0; i < list.size(); ++i) one(list[i], path + "[" + std::to_string(i) + "]");
  } else {
    one(list, path);
  }
}

void parseHttpFilters(config::MapReader& r, HttpConfig& cfg) {
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
    if (name == "router") {
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
    sluice::http::HttpFilterEntry e{name, sluice::http::findHttpFilter(name), reader->read(fr), nullptr};
    if (e.spec) e.config = e.factory->build(*e.spec);  // transitional: built when read
    cfg.http_filters.push_back(std::move(e));
  }
}

// `route_config:` inline (lifted into the config's named route tables) or
// `route_config_name:`; exactly one.
void readRouteConfigRef(config::MapReader& r, HttpConfig& cfg) {
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
    e.config = sluice::http::parseRouteConfig(rr);
    cfg.route_config_name = e.name;
    cfg.route_config_loc = e.loc;
    r.ctx().inlineRouteConfigs().push_back(std::move(e));
  } else if (by_name) {
    r.string("route_config_name", cfg.route_config_name);
    cfg.route_config_loc = r.locOf("route_config_name");
  } else {
    r.ctx().error(r.node(), r.childPath("route_config"), "missing required field (or route_config_name)");
  }
}

// The router ends every chain: an ordinary entry, so a stream builds its
// filters from the list alone.
void appendRouter(HttpConfig& cfg) {
  cfg.http_filters.push_back({"router", &router::factory(), nullptr, router::defaultConfig()});
}

class Factory final : public legacy::NetworkFactory {
 public:
  std::string_view name() const override { return "http"; }
  bool terminal() const override { return true; }

  std::shared_ptr<const net::NetworkFilterConfig> parse(config::MapReader& r) const override {
    auto cfg = std::make_shared<HttpConfig>();
    r.uint32("max_request_headers_bytes", cfg->limits.max_request_headers_bytes, 1024, 1024 * 1024);
    r.uint32("max_uri_bytes", cfg->limits.max_uri_bytes, 64, 1024 * 1024);
    r.uint32("max_headers_count", cfg->limits.max_headers_count, 1, 10000);
    uint32_t max_body_mib = 0;
    r.uint32("max_request_body_mib", max_body_mib, 0, 1024 * 1024);
    cfg->limits.max_request_body_bytes = uint64_t{max_body_mib} << 20;
    r.duration("request_headers_timeout", cfg->request_headers_timeout);
    r.duration("stream_idle_timeout", cfg->stream_idle_timeout);
    r.duration("max_stream_duration", cfg->max_stream_duration);
    r.duration("idle_timeout", cfg->idle_timeout);
    r.uint32("buffer_limit_bytes", cfg->buffer_limit_bytes, 1024, 64u << 20);
    r.uint32("xff_num_trusted_hops", cfg->xff_num_trusted_hops, 0, 16);
    r.boolean("generate_request_id", cfg->generate_request_id);
    if (r.has("forward_client_cert_details")) {
      std::string mode;
      r.string("forward_client_cert_details", mode);
      if (auto m = sluice::http::parseForwardClientCert(mode)) cfg->forward_client_cert_details = *m;
      else if (r.child("forward_client_cert_details").IsScalar())
        r.ctx().error(r.locOf("forward_client_cert_details"), r.childPath("forward_client_cert_details"),
                      "must be sanitize, forward_only, append_forward or sanitize_set");
    }
    readRouteConfigRef(r, *cfg);
    parseHttpFilters(r, *cfg);
    appendRouter(*cfg);
    parseAccessLogs(r, *cfg);
    r.finish();
    return cfg;
  }

  void validate(const net::NetworkFilterConfig& base, const config::Config& whole, std::string_view path,
                config::ParseContext& ctx) const override {
    const auto& cfg = static_cast<const HttpConfig&>(base);
    std::vector<std::string> chain;
    for (const auto& f : cfg.http_filters) chain.push_back(f.name);
    if (const auto* rc = whole.findRouteConfig(cfg.route_config_name)) {
      sluice::http::validateRouteConfig(*rc->config, whole, rc->path, ctx, chain);
    } else if (!cfg.route_config_name.empty()) {
      ctx.missingReference(cfg.route_config_loc, std::string(path) + ".route_config_name",
                "unknown route config '" + cfg.route_config_name + "'");
    }
    for (size_t i = 0; i < cfg.http_filters.size(); ++i) {
      const auto& f = cfg.http_filters[i];
      if (f.spec)
        config::findHttpFilterReader(f.name)->validate(
            *f.spec, whole, std::string(path) + ".http_filters[" + std::to_string(i) + "]." + f.name, ctx);
    }
  }

  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& base,
                                                 net::FilterContext& ctx) const override {
    return std::make_unique<sluice::http::ConnectionManager>(static_cast<const HttpConfig&>(base), ctx);
  }
};

}  // namespace

nlohmann::json HttpConfig::toJson() const {
  nlohmann::json filters = nlohmann::json::array();
  for (const auto& f : http_filters)
    filters.push_back({{"name", f.name}, {"config", f.spec ? f.spec->toJson() : nlohmann::json::object()}});
  nlohmann::json logs = nlohmann::json::array();
  for (const auto& a : access_logs) logs.push_back({{"path", a.path}, {"format", a.format}});
  return {{"max_request_headers_bytes", limits.max_request_headers_bytes},
          {"max_uri_bytes", limits.max_uri_bytes},
          {"max_headers_count", limits.max_headers_count},
          {"max_request_body_mib", limits.max_request_body_bytes >> 20},
          {"request_headers_timeout", config::durationString(request_headers_timeout)},
          {"stream_idle_timeout", config::durationString(stream_idle_timeout)},
          {"max_stream_duration", config::durationString(max_stream_duration)},
          {"idle_timeout", config::durationString(idle_timeout)},
          {"buffer_limit_bytes", buffer_limit_bytes},
          {"xff_num_trusted_hops", xff_num_trusted_hops},
          {"generate_request_id", generate_request_id},
          {"forward_client_cert_details", sluice::http::forwardClientCertName(forward_client_cert_details)},
          {"route_config_name", route_config_name},
          {"http_filters", filters},
          {"access_log", logs}};
}

const legacy::NetworkFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::http_cm
