// The `http` network filter's config: reading and rendering its settings.
#include "filters/network/http/config.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"

namespace sluice::filters::http_cm {
namespace {

TEST(ForwardClientCertTest, HttpFilterConfigParsesAndRendersTheMode) {
  auto parse = [](const std::string& extra, config::ParseContext& ctx) {
    const YAML::Node node =
        YAML::Load(extra + "\nroute_config: {virtual_hosts: [{name: a, domains: [\"*\"], routes: []}]}");
    config::MapReader r(ctx, node, "listeners[0].http");
    return std::static_pointer_cast<const HttpConfig>(factory().parse(r));
  };
  config::ParseContext dflt("h.yaml");
  auto d = parse("{}", dflt);
  EXPECT_EQ(d->forward_client_cert_details, ForwardClientCert::Sanitize);
  EXPECT_EQ(d->toJson()["forward_client_cert_details"], "sanitize");
  config::ParseContext ok("h.yaml");
  auto a = parse("forward_client_cert_details: append_forward", ok);
  ASSERT_TRUE(ok.ok()) << ok.str();
  EXPECT_EQ(a->forward_client_cert_details, ForwardClientCert::AppendForward);
  EXPECT_EQ(a->toJson()["forward_client_cert_details"], "append_forward");
  config::ParseContext bad("h.yaml");
  parse("forward_client_cert_details: always", bad);
  EXPECT_NE(bad.str().find("h.yaml:1:30: listeners[0].http.forward_client_cert_details: must be sanitize, "
                           "forward_only, append_forward or sanitize_set"),
            std::string::npos)
      << bad.str();
}

}  // namespace
}  // namespace sluice::filters::http_cm
