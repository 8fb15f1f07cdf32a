// With a certificate agent (`dynamic.ca`), the ADS client never asks for
// the agent's secret over SDS, nor waits for it: a cluster naming it and a
// trust bundle secret subscribes to the bundle alone, and is published as
// soon as the bundle (inline PEM) arrives.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "proxy/ads/ads_client.h"
#include "tests/unit/ads/ads_client_support.h"
#include "xds/type_urls.h"

namespace sluice::ads {
namespace {

using testing::FakeSink;
namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;

struct FakeStream : AdsStream {
  explicit FakeStream(std::vector<DiscoveryRequest>& sent) : sent_(sent) {}
  void send(const DiscoveryRequest& r) override { sent_.push_back(r); }
  void send(const DeltaDiscoveryRequest&) override { ADD_FAILURE() << "delta on a state-of-the-world stream"; }
  std::vector<DiscoveryRequest>& sent_;
};

google::protobuf::Any mtlsCluster() {
  envoy::config::cluster::v3::Cluster c;
  c.set_name("web");
  c.set_type(envoy::config::cluster::v3::Cluster::STATIC);
  c.mutable_connect_timeout()->set_seconds(1);
  auto* sa = c.mutable_load_assignment()
                 ->add_endpoints()
                 ->add_lb_endpoints()
                 ->mutable_endpoint()
                 ->mutable_address()
                 ->mutable_socket_address();
  c.mutable_load_assignment()->set_cluster_name("web");
  sa->set_address("127.0.0.1");
  sa->set_port_value(8443);
  tlsv3::UpstreamTlsContext tls;
  auto* common = tls.mutable_common_tls_context();
  auto* cert = common->add_tls_certificate_sds_secret_configs();
  cert->set_name("default");
  cert->mutable_sds_config()->mutable_ads();
  auto* roots = common->mutable_validation_context_sds_secret_config();
  roots->set_name("ROOTCA");
  roots->mutable_sds_config()->mutable_ads();
  c.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  c.mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
  google::protobuf::Any any;
  any.PackFrom(c);
  return any;
}

google::protobuf::Any inlineRoots() {
  tlsv3::Secret s;
  s.set_name("ROOTCA");
  s.mutable_validation_context()->mutable_trusted_ca()->set_inline_string("-----BEGIN CERTIFICATE-----\n");
  google::protobuf::Any any;
  any.PackFrom(s);
  return any;
}

std::unique_ptr<DiscoveryResponse> response(std::string_view type, const std::string& version, const std::string& nonce,
                                            std::vector<google::protobuf::Any> resources) {
  auto r = std::make_unique<DiscoveryResponse>();
  r->set_type_url(std::string(type));
  r->set_version_info(version);
  r->set_nonce(nonce);
  for (auto& a : resources) *r->add_resources() = a;
  return r;
}

TEST(AdsClientWithAgent, NeverSubscribesToTheAgentsSecret) {
  auto loaded = config::loadString(
      "dynamic:\n  ads: {address: 127.0.0.1:1, node: {id: n1}, initial_fetch_timeout: 10s}\n"
      "  ca: {address: 127.0.0.1:15012, plaintext: true, token_file: /t}\n",
      "b.yaml");
  ASSERT_TRUE(loaded.config) << loaded.errorText();
  event::Loop loop;
  FakeSink sink;
  std::vector<DiscoveryRequest> sent;
  AdsStreamEvents* events = nullptr;
  AdsClient client(loop, sink, loaded.config, [&](AdsStreamEvents& e) {
    events = &e;
    return std::make_unique<FakeStream>(sent);
  });
  client.start();
  events->onResponse(response(xds::kClusterType, "c1", "1", {mtlsCluster()}));
  events->onResponse(response(xds::kListenerType, "l1", "2", {}));
  const DiscoveryRequest* sds = nullptr;
  for (const auto& r : sent)
    if (r.type_url() == xds::kSecretType) sds = &r;
  ASSERT_TRUE(sds);
  ASSERT_EQ(sds->resource_names_size(), 1);
  EXPECT_EQ(sds->resource_names(0), "ROOTCA") << "'default' is the agent's";
  EXPECT_TRUE(sink.applied.empty()) << "the trust bundle is still awaited";
  events->onResponse(response(xds::kSecretType, "s1", "3", {inlineRoots()}));
  ASSERT_EQ(sink.applied.size(), 1u) << "published without waiting for 'default'";
  const auto* roots = sink.applied[0]->findSecret("ROOTCA");
  ASSERT_TRUE(roots);
  EXPECT_TRUE(roots->inline_pem);
}

}  // namespace
}  // namespace sluice::ads
