// The `http` network filter's config: reading and rendering its settings.
#include "filters/network/http/config.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "filters/network/http/filter.h"

namespace sluice::filters::http_cm {
namespace {

TEST(ForwardClientCertTest, HttpFilterConfigParsesAndRendersTheMode) {
  auto parse = [](const std::string& extra, config::ParseContext& ctx) {
    const YAML::Node node =
        YAML::Load(extra + "\nroute_config: {virtual_hosts: [{name: a, domains: [\"*\"], routes: []}]}");
    config::MapReader r(ctx, node, "listeners[0].http");
    return std::static_pointer_cast<const Spec>(reader().read(r));
  };
  config::ParseContext dflt("h.yaml");
  auto d = parse("{}", dflt);
  EXPECT_EQ(d->forward_client_cert_details, config::ForwardClientCert::Sanitize);
  EXPECT_EQ(d->toJson()["forward_client_cert_details"], "sanitize");
  config::ParseContext ok("h.yaml");
  auto a = parse("forward_client_cert_details: append_forward", ok);
  ASSERT_TRUE(ok.ok()) << ok.str();
  EXPECT_EQ(a->forward_client_cert_details, config::ForwardClientCert::AppendForward);
  EXPECT_EQ(a->toJson()["forward_client_cert_details"], "append_forward");
  EXPECT_EQ(build(*a)->forward_client_cert_details, config::ForwardClientCert::AppendForward);
  config::ParseContext bad("h.yaml");
  parse("forward_client_cert_details: always", bad);
  EXPECT_NE(bad.str().find("h.yaml:1:30: listeners[0].http.forward_client_cert_details: must be sanitize, "
                           "forward_only, append_forward or sanitize_set"),
            std::string::npos)
      << bad.str();
}

TEST(PathNormalizationConfigTest, ReadsDefaultsValuesAndBadActions) {
  auto parse = [](const std::string& extra, config::ParseContext& ctx) {
    const YAML::Node node =
        YAML::Load(extra + "\nroute_config: {virtual_hosts: [{name: a, domains: [\"*\"], routes: []}]}");
    config::MapReader r(ctx, node, "listeners[0].http");
    return std::static_pointer_cast<const Spec>(reader().read(r));
  };
  config::ParseContext dflt("h.yaml");
  auto d = parse("", dflt);
  ASSERT_TRUE(dflt.ok()) << dflt.str();
  EXPECT_TRUE(d->normalize_path);
  EXPECT_TRUE(d->merge_slashes);
  EXPECT_TRUE(d->reject_backslash);
  EXPECT_TRUE(d->reject_path_parameters_dot_segments);
  EXPECT_EQ(d->path_with_escaped_slashes, config::EscapedSlashes::Reject);
  EXPECT_EQ(d->toJson()["path_with_escaped_slashes"], "reject");

  config::ParseContext ok("h.yaml");
  auto s = parse(
      "normalize_path: false\nmerge_slashes: false\nreject_backslash: false\n"
      "reject_path_parameters_dot_segments: false\npath_with_escaped_slashes: unescape_and_redirect",
      ok);
  ASSERT_TRUE(ok.ok()) << ok.str();
  EXPECT_FALSE(s->normalize_path);
  EXPECT_FALSE(s->merge_slashes);
  EXPECT_FALSE(s->reject_backslash);
  EXPECT_FALSE(s->reject_path_parameters_dot_segments);
  EXPECT_EQ(s->path_with_escaped_slashes, config::EscapedSlashes::UnescapeAndRedirect);
  EXPECT_EQ(s->toJson()["path_with_escaped_slashes"], "unescape_and_redirect");
  EXPECT_EQ(s->toJson()["merge_slashes"], false);
  auto built = build(*s);
  EXPECT_EQ(built->path_with_escaped_slashes, config::EscapedSlashes::UnescapeAndRedirect);
  EXPECT_FALSE(built->merge_slashes);

  config::ParseContext bad("h.yaml");
  parse("path_with_escaped_slashes: decode", bad);
  EXPECT_NE(bad.str().find("h.yaml:1:28: listeners[0].http.path_with_escaped_slashes: must be reject, keep, "
                           "unescape_and_redirect or unescape_and_forward"),
            std::string::npos)
      << bad.str();
  config::ParseContext bad_bool("h.yaml");
  parse("merge_slashes: maybe", bad_bool);
  EXPECT_NE(bad_bool.str().find("h.yaml:1:16: listeners[0].http.merge_slashes"), std::string::npos)
      << bad_bool.str();
}

// Issue 16: overlong UTF-8 refused by default; the original path header off
// by default, and never a field the upstream reads as framing or authority.
TEST(PathNormalizationConfigTest, OverlongUtf8AndOriginalPathHeader) {
  auto parse = [](const std::string& extra, config::ParseContext& ctx) {
    const YAML::Node node =
        YAML::Load(extra + "\nroute_config: {virtual_hosts: [{name: a, domains: [\"*\"], routes: []}]}");
    config::MapReader r(ctx, node, "listeners[0].http");
    return std::static_pointer_cast<const Spec>(reader().read(r));
  };
  config::ParseContext dflt("h.yaml");
  auto d = parse("", dflt);
  ASSERT_TRUE(dflt.ok()) << dflt.str();
  EXPECT_TRUE(d->reject_overlong_utf8);
  EXPECT_EQ(d->original_path_header, "");
  EXPECT_EQ(d->toJson()["original_path_header"], "");

  config::ParseContext ok("h.yaml");
  auto s = parse("reject_overlong_utf8: false\noriginal_path_header: x-envoy-original-path", ok);
  ASSERT_TRUE(ok.ok()) << ok.str();
  EXPECT_FALSE(s->reject_overlong_utf8);
  EXPECT_EQ(s->original_path_header, "x-envoy-original-path");
  EXPECT_EQ(s->toJson()["reject_overlong_utf8"], false);
  EXPECT_EQ(s->toJson()["original_path_header"], "x-envoy-original-path");
  auto built = build(*s);
  EXPECT_EQ(built->original_path_header, "x-envoy-original-path");
  EXPECT_FALSE(built->reject_overlong_utf8);

  for (const char* bad : {"\"x y\"", "\":path\"", "\"a:b\""}) {
    config::ParseContext ctx("h.yaml");
    parse(std::string("original_path_header: ") + bad, ctx);
    EXPECT_NE(ctx.str().find("h.yaml:1:23: listeners[0].http.original_path_header: invalid header name"),
              std::string::npos)
        << bad << ": " << ctx.str();
  }
  for (const char* reserved : {"host", "Content-Length", "transfer-encoding", "connection", "te", "X-Request-Id",
                               "x-forwarded-for", "x-forwarded-client-cert"}) {
    config::ParseContext ctx("h.yaml");
    parse(std::string("original_path_header: ") + reserved, ctx);
    EXPECT_NE(ctx.str().find("listeners[0].http.original_path_header: '" + std::string(reserved) +
                             "' is not a field this proxy may set"),
              std::string::npos)
        << reserved << ": " << ctx.str();
  }
  config::ParseContext bad_bool("h.yaml");
  parse("reject_overlong_utf8: sometimes", bad_bool);
  EXPECT_NE(bad_bool.str().find("h.yaml:1:23: listeners[0].http.reject_overlong_utf8"), std::string::npos)
      << bad_bool.str();
}

// The spec is plain data; building it gives the connection manager its
// runtime config: the codec limits, each HTTP filter built by its factory,
// the router last, access log formats compiled.
TEST(HttpConfigTest, BuildsTheConnectionManagerConfigFromTheSpec) {
  config::ParseContext ctx("h.yaml");
  const YAML::Node node = YAML::Load(R"(
route_config_name: r
max_uri_bytes: 4096
max_request_body_mib: 2
http_filters: [{header_mutation: {request_headers_to_remove: [x-a]}}]
access_log: {path: /dev/null, format: "%METHOD% %PATH%"}
)");
  config::MapReader r(ctx, node, "listeners[0].http");
  const auto spec = std::static_pointer_cast<const Spec>(reader().read(r));
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  ASSERT_EQ(spec->http_filters.size(), 1u);  // the router is not part of the spec...
  EXPECT_EQ(spec->toJson()["http_filters"].back()["name"], "router");  // ...but of its dump

  const auto cfg = build(*spec);
  EXPECT_EQ(cfg->route_config_name, "r");
  EXPECT_EQ(cfg->limits.max_uri_bytes, 4096u);
  EXPECT_EQ(cfg->limits.max_request_body_bytes, uint64_t{2} << 20);
  EXPECT_EQ(cfg->limits.max_headers_count, sluice::http::CodecLimits{}.max_headers_count);
  EXPECT_EQ(cfg->limits.max_request_headers_bytes, sluice::http::CodecLimits{}.max_request_headers_bytes);
  ASSERT_EQ(cfg->http_filters.size(), 2u);
  EXPECT_EQ(cfg->http_filters[0].name, "header_mutation");
  EXPECT_EQ(cfg->http_filters[0].factory, sluice::http::findHttpFilter("header_mutation"));
  ASSERT_NE(cfg->http_filters[0].config, nullptr);
  EXPECT_EQ(cfg->http_filters[1].name, "router");
  EXPECT_EQ(cfg->http_filters[1].factory, sluice::http::findHttpFilter("router"));
  ASSERT_EQ(cfg->access_logs.size(), 1u);
  EXPECT_NE(cfg->access_logs[0].formatter, nullptr);
}

TEST(HttpConfigTest, AccessLogFormatIsCheckedWhenRead) {
  config::ParseContext ctx("h.yaml");
  const YAML::Node node = YAML::Load("route_config_name: r\naccess_log: {path: /dev/null, format: \"%NOPE%\"}");
  config::MapReader r(ctx, node, "listeners[0].http");
  reader().read(r);
  EXPECT_NE(ctx.str().find("h.yaml:2:39: listeners[0].http.access_log.format: unknown access log token '%NOPE%'"),
            std::string::npos)
      << ctx.str();
}

}  // namespace
}  // namespace sluice::filters::http_cm
