// AdsClient over incremental (delta) xDS, on a scripted stream: the
// subscriptions it sends (wildcard, by name, unsubscribes), what it applies
// from added/updated resources and removed_resources, ACK and NACK by nonce,
// the rollback after a NACK, initial_resource_versions after a reconnect,
// and the client metrics moving. The sink and stream are fakes; translation
// (xds::assemble) is real.
#include <gtest/gtest.h>

#include <algorithm>

#include "config/loader.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "proxy/ads/ads_client.h"
#include "proxy/stats/named_counters.h"
#include "tests/unit/ads/ads_client_support.h"
#include "xds/type_urls.h"

namespace sluice::ads {
namespace {

using testing::edsCluster;
using testing::endpoints;
using testing::FakeSink;

struct FakeDeltaStream : AdsStream {
  explicit FakeDeltaStream(std::vector<DeltaDiscoveryRequest>& sent) : sent_(sent) {}
  void send(const DiscoveryRequest&) override { ADD_FAILURE() << "a state-of-the-world request on a delta stream"; }
  void send(const DeltaDiscoveryRequest& r) override { sent_.push_back(r); }
  std::vector<DeltaDiscoveryRequest>& sent_;
};

struct Res {
  std::string name;
  std::string version;
  google::protobuf::Any body;
};

std::unique_ptr<DeltaDiscoveryResponse> delta(std::string_view type, const std::string& nonce, std::vector<Res> added,
                                              std::vector<std::string> removed = {}) {
  auto r = std::make_unique<DeltaDiscoveryResponse>();
  r->set_type_url(std::string(type));
  r->set_nonce(nonce);
  r->set_system_version_info("sys-" + nonce);
  for (auto& a : added) {
    auto* res = r->add_resources();
    res->set_name(a.name);
    res->set_version(a.version);
    *res->mutable_resource() = a.body;
  }
  for (auto& n : removed) r->add_removed_resources(n);
  return r;
}

int64_t metric(const std::string& name, const std::string& type = "") {
  int64_t v = -1;
  stats::forEachNamedCounter([&](const stats::NamedCounterView& c) {
    if (c.name != name) return;
    if (type.empty() ? c.labels.empty() : (c.labels.size() == 1 && c.labels[0].second == type)) v = c.value;
  });
  return v;
}

std::vector<std::string> subscribed(const DeltaDiscoveryRequest& r) {
  return {r.resource_names_subscribe().begin(), r.resource_names_subscribe().end()};
}

class AdsClientDelta : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::loadString(
        "dynamic: {ads: {address: 127.0.0.1:1, node: {id: n1}, initial_fetch_timeout: 10s, delta: true}}\n", "b.yaml");
    ASSERT_TRUE(loaded.config) << loaded.errorText();
    client_ = std::make_unique<AdsClient>(loop_, sink_, loaded.config, [this](AdsStreamEvents& e) {
      events_ = &e;
      ++opened_;
      return std::make_unique<FakeDeltaStream>(sent_);
    });
    client_->start();
  }
  const DeltaDiscoveryRequest* last(std::string_view type) const {
    for (auto it = sent_.rbegin(); it != sent_.rend(); ++it)
      if (it->type_url() == type) return &*it;
    return nullptr;
  }
  void warmUp() {
    events_->onDeltaResponse(delta(xds::kClusterType, "1", {{"web", "cw1", edsCluster("web")}}));
    events_->onDeltaResponse(delta(xds::kClusterLoadAssignmentType, "2", {{"web", "ew1", endpoints("web", 8080)}}));
    events_->onDeltaResponse(delta(xds::kListenerType, "3", {}));
  }
  void runUntilOpened(int n) {
    auto guard = loop_.createTimer([this] { loop_.exit(); });
    guard->enable(std::chrono::seconds(3));
    std::unique_ptr<event::Timer> poll;
    poll = loop_.createTimer([&] {
      if (opened_ == n)
        loop_.exit();
      else
        poll->enable(std::chrono::milliseconds(10));
    });
    poll->enable(std::chrono::milliseconds(10));
    loop_.run();
  }

  event::Loop loop_;
  FakeSink sink_;
  std::vector<DeltaDiscoveryRequest> sent_;
  AdsStreamEvents* events_ = nullptr;
  int opened_ = 0;
  std::unique_ptr<AdsClient> client_;
};

TEST_F(AdsClientDelta, SubscribesWildcardClustersThenListenersWithTheNodeFirst) {
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].type_url(), xds::kClusterType);
  EXPECT_EQ(sent_[0].node().id(), "n1");
  EXPECT_EQ(subscribed(sent_[0]), std::vector<std::string>{"*"});
  EXPECT_EQ(sent_[1].type_url(), xds::kListenerType);
  EXPECT_FALSE(sent_[1].has_node());
  EXPECT_EQ(subscribed(sent_[1]), std::vector<std::string>{"*"});
  EXPECT_EQ(sent_[1].initial_resource_versions_size(), 0);
  EXPECT_EQ(client_->status()["protocol"], "delta");
}

TEST_F(AdsClientDelta, HeldUntilEndpointsArriveThenAckedByNonce) {
  const auto accepted_before = metric("sluice_xds_updates_accepted_total", "Cluster");
  events_->onDeltaResponse(delta(xds::kClusterType, "1", {{"web", "cw1", edsCluster("web")}}));
  const auto* eds = last(xds::kClusterLoadAssignmentType);
  ASSERT_TRUE(eds);
  EXPECT_EQ(subscribed(*eds), std::vector<std::string>{"web"});
  EXPECT_TRUE(sink_.applied.empty());
  EXPECT_EQ(last(xds::kClusterType)->response_nonce(), "");  // not ACKed yet
  events_->onDeltaResponse(delta(xds::kListenerType, "2", {}));
  events_->onDeltaResponse(delta(xds::kClusterLoadAssignmentType, "3", {{"web", "ew1", endpoints("web", 8080)}}));
  ASSERT_EQ(sink_.applied.size(), 1u);
  ASSERT_EQ(sink_.applied[0]->clusters.size(), 1u);
  EXPECT_EQ(sink_.applied[0]->endpointsOf(sink_.applied[0]->clusters[0]).size(), 1u);
  const auto* ack = last(xds::kClusterType);
  EXPECT_EQ(ack->response_nonce(), "1");
  EXPECT_FALSE(ack->has_error_detail());
  EXPECT_EQ(ack->resource_names_subscribe_size(), 0);  // an ACK changes no subscription
  EXPECT_EQ(last(xds::kClusterLoadAssignmentType)->response_nonce(), "3");
  EXPECT_EQ(metric("sluice_xds_updates_accepted_total", "Cluster"), accepted_before + 1);
  EXPECT_EQ(metric("sluice_xds_resources", "Cluster"), 1);
  const auto status = client_->status();
  ASSERT_EQ(status["resources"].size(), 2u);
  EXPECT_EQ(status["types"]["Cluster"]["version"], "sys-1");
}

// Connected means the server answered the stream, not that it sent
// anything: a server with nothing for this node yet still shows connected.
TEST_F(AdsClientDelta, ConnectedFromTheStreamEstablishedUntilItEnds) {
  EXPECT_EQ(metric("sluice_xds_connected"), 0);
  EXPECT_EQ(client_->status()["stream"], "connecting");
  events_->onStreamEstablished();
  EXPECT_EQ(metric("sluice_xds_connected"), 1);
  EXPECT_EQ(client_->status()["stream"], "connected");
  EXPECT_TRUE(sink_.applied.empty());
  warmUp();
  EXPECT_EQ(metric("sluice_xds_connected"), 1);
  events_->onStreamClosed("gRPC status 14");
  EXPECT_EQ(metric("sluice_xds_connected"), 0);
  EXPECT_EQ(client_->status()["stream"], "disconnected");
  runUntilOpened(2);
  EXPECT_EQ(metric("sluice_xds_connected"), 0) << "a new stream is not connected until the server answers it";
  events_->onStreamEstablished();
  EXPECT_EQ(metric("sluice_xds_connected"), 1);
}

TEST_F(AdsClientDelta, UpdatesMergeAndRemovalsUnsubscribe) {
  warmUp();
  ASSERT_EQ(sink_.applied.size(), 1u);
  // A second cluster comes alone: the first one stays (a delta adds).
  events_->onDeltaResponse(delta(xds::kClusterType, "4", {{"api", "ca1", edsCluster("api")}}));
  const auto* eds = last(xds::kClusterLoadAssignmentType);
  EXPECT_EQ(subscribed(*eds), std::vector<std::string>{"api"});
  EXPECT_EQ(eds->resource_names_unsubscribe_size(), 0);
  events_->onDeltaResponse(delta(xds::kClusterLoadAssignmentType, "5", {{"api", "ea1", endpoints("api", 9090)}}));
  ASSERT_EQ(sink_.applied.size(), 2u);
  EXPECT_EQ(sink_.applied.back()->clusters.size(), 2u);
  // `web` removed: gone from the config, and its endpoints unsubscribed.
  events_->onDeltaResponse(delta(xds::kClusterType, "6", {}, {"web"}));
  ASSERT_EQ(sink_.applied.size(), 3u);
  ASSERT_EQ(sink_.applied.back()->clusters.size(), 1u);
  EXPECT_EQ(sink_.applied.back()->clusters[0].name, "api");
  eds = last(xds::kClusterLoadAssignmentType);
  EXPECT_EQ(eds->resource_names_subscribe_size(), 0);
  ASSERT_EQ(eds->resource_names_unsubscribe_size(), 1);
  EXPECT_EQ(eds->resource_names_unsubscribe(0), "web");
  EXPECT_EQ(last(xds::kClusterType)->response_nonce(), "6");
  EXPECT_EQ(metric("sluice_xds_resources", "Cluster"), 1);
}

TEST_F(AdsClientDelta, ABadClusterIsNackedByNonceAndRolledBack) {
  warmUp();
  const auto rejected_before = metric("sluice_xds_updates_rejected_total", "Cluster");
  events_->onDeltaResponse(delta(xds::kClusterType, "9", {{"web", "cw2", edsCluster("web", /*strict_dns=*/true)}}));
  const auto* nack = last(xds::kClusterType);
  EXPECT_EQ(nack->response_nonce(), "9");
  EXPECT_EQ(nack->error_detail().code(), 3);
  EXPECT_NE(nack->error_detail().message().find("Cluster 'web'"), std::string::npos) << nack->error_detail().message();
  EXPECT_EQ(sink_.applied.size(), 1u);
  EXPECT_EQ(metric("sluice_xds_updates_rejected_total", "Cluster"), rejected_before + 1);
  const auto status = client_->status();
  EXPECT_EQ(status["types"]["Cluster"]["last_nack"]["version"], "sys-9");
  // The rollback kept the good cluster: a later endpoint update still applies to it.
  events_->onDeltaResponse(delta(xds::kClusterLoadAssignmentType, "10", {{"web", "ew2", endpoints("web", 8081)}}));
  ASSERT_EQ(sink_.applied.size(), 2u);
  ASSERT_EQ(sink_.applied.back()->clusters.size(), 1u);
  EXPECT_EQ(sink_.applied.back()->endpointsOf(sink_.applied.back()->clusters[0])[0].address.port(), 8081);
}

TEST_F(AdsClientDelta, AfterTheStreamEndsItResumesWithInitialResourceVersions) {
  warmUp();
  const auto reconnects_before = metric("sluice_xds_stream_reconnects_total");
  events_->onStreamClosed("gRPC status 14");
  EXPECT_EQ(metric("sluice_xds_connected"), 0);
  sent_.clear();
  runUntilOpened(2);
  ASSERT_EQ(opened_, 2);
  EXPECT_EQ(metric("sluice_xds_stream_reconnects_total"), reconnects_before + 1);
  const auto* cds = last(xds::kClusterType);
  ASSERT_TRUE(cds);
  EXPECT_EQ(cds->node().id(), "n1");
  EXPECT_EQ(subscribed(*cds), std::vector<std::string>{"*"});
  EXPECT_EQ(cds->response_nonce(), "");
  ASSERT_EQ(cds->initial_resource_versions().count("web"), 1u);
  EXPECT_EQ(cds->initial_resource_versions().at("web"), "cw1");
  const auto* eds = last(xds::kClusterLoadAssignmentType);
  ASSERT_TRUE(eds);
  EXPECT_EQ(subscribed(*eds), std::vector<std::string>{"web"});
  EXPECT_EQ(eds->initial_resource_versions().at("web"), "ew1");
  // A resuming server that sends nothing new leaves the config served.
  EXPECT_EQ(sink_.applied.size(), 1u);
}

}  // namespace
}  // namespace sluice::ads
