// AdsClient's protocol logic over a scripted stream: what it sends, when it
// publishes, what it ACKs and NACKs, and what it asks for after a reconnect.
// The stream and the sink are fakes; translation (xds::assemble) is real.
#include "proxy/ads/ads_client.h"

#include <gtest/gtest.h>

#include "config/loader.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "tests/unit/ads/ads_client_support.h"
#include "xds/type_urls.h"

namespace sluice::ads {
namespace {

using testing::edsCluster;
using testing::endpoints;
using testing::FakeSink;

struct FakeStream : AdsStream {
  explicit FakeStream(std::vector<DiscoveryRequest>& sent) : sent_(sent) {}
  void send(const DiscoveryRequest& r) override { sent_.push_back(r); }
  void send(const DeltaDiscoveryRequest&) override { ADD_FAILURE() << "a delta request on a state-of-the-world stream"; }
  std::vector<DiscoveryRequest>& sent_;
};

std::unique_ptr<DiscoveryResponse> response(std::string_view type, const std::string& version, const std::string& nonce,
                                            std::vector<google::protobuf::Any> resources) {
  auto r = std::make_unique<DiscoveryResponse>();
  r->set_type_url(std::string(type));
  r->set_version_info(version);
  r->set_nonce(nonce);
  for (auto& a : resources) *r->add_resources() = a;
  return r;
}

class AdsClientLogic : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::loadString("dynamic: {ads: {address: 127.0.0.1:1, node: {id: n1}, initial_fetch_timeout: 10s}}\n",
                                     "b.yaml");
    ASSERT_TRUE(loaded.config) << loaded.errorText();
    client_ = std::make_unique<AdsClient>(loop_, sink_, loaded.config, [this](AdsStreamEvents& e) {
      events_ = &e;
      ++opened_;
      return std::make_unique<FakeStream>(sent_);
    });
    client_->start();
  }
  // The last request sent for `type`.
  const DiscoveryRequest* last(std::string_view type) const {
    for (auto it = sent_.rbegin(); it != sent_.rend(); ++it)
      if (it->type_url() == type) return &*it;
    return nullptr;
  }
  // CDS with `web`, then its endpoints, then an empty LDS: a whole first config.
  void warmUp() {
    events_->onResponse(response(xds::kClusterType, "c1", "1", {edsCluster("web")}));
    events_->onResponse(response(xds::kClusterLoadAssignmentType, "e1", "2", {endpoints("web", 8080)}));
    events_->onResponse(response(xds::kListenerType, "l1", "3", {}));
  }

  event::Loop loop_;
  FakeSink sink_;
  std::vector<DiscoveryRequest> sent_;
  AdsStreamEvents* events_ = nullptr;
  int opened_ = 0;
  std::unique_ptr<AdsClient> client_;
};

TEST_F(AdsClientLogic, SubscribesClustersThenListenersWithTheNodeFirst) {
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].type_url(), xds::kClusterType);
  EXPECT_EQ(sent_[0].node().id(), "n1");
  EXPECT_EQ(sent_[1].type_url(), xds::kListenerType);
  EXPECT_FALSE(sent_[1].has_node());
  EXPECT_EQ(sent_[1].resource_names_size(), 0);  // wildcard
}

TEST_F(AdsClientLogic, AClusterIsHeldUntilItsEndpointsArriveThenBothAreAcked) {
  events_->onResponse(response(xds::kClusterType, "c1", "1", {edsCluster("web")}));
  // Asked for the endpoints; the cluster is neither published nor ACKed yet.
  const auto* eds = last(xds::kClusterLoadAssignmentType);
  ASSERT_TRUE(eds);
  ASSERT_EQ(eds->resource_names_size(), 1);
  EXPECT_EQ(eds->resource_names(0), "web");
  EXPECT_TRUE(sink_.applied.empty());
  EXPECT_EQ(last(xds::kClusterType)->response_nonce(), "");
  events_->onResponse(response(xds::kListenerType, "l1", "2", {}));
  events_->onResponse(response(xds::kClusterLoadAssignmentType, "e1", "3", {endpoints("web", 8080)}));
  ASSERT_EQ(sink_.applied.size(), 1u);
  ASSERT_EQ(sink_.applied[0]->clusters.size(), 1u);
  EXPECT_EQ(sink_.applied[0]->endpointsOf(sink_.applied[0]->clusters[0]).size(), 1u);
  EXPECT_EQ(last(xds::kClusterType)->version_info(), "c1");
  EXPECT_EQ(last(xds::kClusterType)->response_nonce(), "1");
  EXPECT_EQ(last(xds::kClusterLoadAssignmentType)->version_info(), "e1");
  EXPECT_EQ(last(xds::kListenerType)->response_nonce(), "2");
}

TEST_F(AdsClientLogic, ABadClusterIsNackedWithTheLastAckedVersionAndRolledBack) {
  warmUp();
  ASSERT_EQ(sink_.applied.size(), 1u);
  events_->onResponse(response(xds::kClusterType, "c2", "9", {edsCluster("web", /*strict_dns=*/true)}));
  const auto* nack = last(xds::kClusterType);
  EXPECT_EQ(nack->version_info(), "c1");
  EXPECT_EQ(nack->response_nonce(), "9");
  EXPECT_EQ(nack->error_detail().code(), 3);
  EXPECT_NE(nack->error_detail().message().find("Cluster 'web'"), std::string::npos) << nack->error_detail().message();
  EXPECT_EQ(sink_.applied.size(), 1u);  // nothing published
  const auto status = client_->status();
  EXPECT_EQ(status["types"]["Cluster"]["version"], "c1");
  EXPECT_EQ(status["types"]["Cluster"]["last_nack"]["version"], "c2");
  // The endpoints are still asked for: the rollback kept the good cluster.
  EXPECT_EQ(last(xds::kClusterLoadAssignmentType)->resource_names_size(), 1);
}

TEST_F(AdsClientLogic, ARefusedApplyIsNackedToo) {
  warmUp();
  sink_.refuse = true;
  events_->onResponse(response(xds::kClusterLoadAssignmentType, "e2", "10", {endpoints("web", 9090)}));
  const auto* nack = last(xds::kClusterLoadAssignmentType);
  EXPECT_EQ(nack->version_info(), "e1");
  EXPECT_EQ(nack->error_detail().message(), "port in use");
  // load() still gives the last accepted (ACKed) set.
  auto r = client_->load();
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->endpointsOf(r.config->clusters[0])[0].address.port(), 8080);
}

TEST_F(AdsClientLogic, AfterTheStreamEndsItReconnectsWithTheAckedVersions) {
  warmUp();
  events_->onStreamClosed("gRPC status 14");
  EXPECT_EQ(opened_, 1);  // not at once: after the backoff
  sent_.clear();
  // Run the loop until the reconnect timer fires (0.25..0.75 s), bounded.
  auto guard = loop_.createTimer([this] { loop_.exit(); });
  guard->enable(std::chrono::seconds(3));
  std::unique_ptr<event::Timer> poll;
  poll = loop_.createTimer([&] {
    if (opened_ == 2) loop_.exit();
    else poll->enable(std::chrono::milliseconds(10));
  });
  poll->enable(std::chrono::milliseconds(10));
  loop_.run();
  ASSERT_EQ(opened_, 2);
  ASSERT_TRUE(last(xds::kClusterType));
  EXPECT_EQ(last(xds::kClusterType)->version_info(), "c1");
  EXPECT_EQ(last(xds::kClusterType)->response_nonce(), "");
  EXPECT_EQ(last(xds::kClusterType)->node().id(), "n1");
  ASSERT_TRUE(last(xds::kClusterLoadAssignmentType));
  EXPECT_EQ(last(xds::kClusterLoadAssignmentType)->version_info(), "e1");
  EXPECT_EQ(last(xds::kClusterLoadAssignmentType)->resource_names(0), "web");
}

}  // namespace
}  // namespace sluice::ads
