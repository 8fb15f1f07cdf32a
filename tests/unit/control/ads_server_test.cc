// The ADS server over a real loopback socket, driven by gRPC C++'s
// generated client stub (tests/unit/control/ads_test_client.h) with
// hand-built snapshots: the state-of-the-world rules (first response, ACK,
// NACK, stale nonces, changed types only and in order, full set versus
// subscribed names, on-demand listeners), delta (subscribe, unsubscribe,
// removals, resume), status() and the metrics.

#include "control/ads_server.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "tests/unit/control/ads_test_client.h"
#include "tests/unit/control/ads_test_snapshots.h"
#include "xds/type_urls.h"

namespace sluice::control {
namespace {

using namespace std::chrono_literals;
using testing::build;
using testing::DeltaClient;
using testing::SnapshotSpec;
using testing::SotwClient;
using testing::v1;
namespace discovery = envoy::service::discovery::v3;
using State = ProxyStatus::PerType::State;

using testing::kCds;
using testing::kEds;
using testing::kLds;
using testing::kRds;
constexpr auto kQuiet = 300ms;  // how long "no response" is watched for

std::vector<std::string> names(const discovery::DiscoveryResponse& r) {
  std::vector<std::string> out;
  for (const auto& any : r.resources()) {
    if (any.type_url() == kCds) {
      envoy::config::cluster::v3::Cluster c;
      any.UnpackTo(&c);
      out.push_back(c.name());
    } else if (any.type_url() == kEds) {
      envoy::config::endpoint::v3::ClusterLoadAssignment c;
      any.UnpackTo(&c);
      out.push_back(c.cluster_name());
    } else if (any.type_url() == kLds) {
      envoy::config::listener::v3::Listener l;
      any.UnpackTo(&l);
      out.push_back(l.name());
    } else {
      envoy::config::route::v3::RouteConfiguration rc;
      any.UnpackTo(&rc);
      out.push_back(rc.name());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

discovery::DiscoveryRequest request(const std::string& type, std::vector<std::string> resource_names = {},
                                    const std::string& version = "", const std::string& nonce = "") {
  discovery::DiscoveryRequest r;
  r.set_type_url(type);
  r.mutable_node()->set_id("proxy-1");
  r.mutable_node()->set_cluster("g");
  for (auto& n : resource_names) r.add_resource_names(n);
  r.set_version_info(version);
  r.set_response_nonce(nonce);
  return r;
}

discovery::DiscoveryRequest ack(const discovery::DiscoveryResponse& resp,
                                std::vector<std::string> resource_names = {}) {
  return request(resp.type_url(), std::move(resource_names), resp.version_info(), resp.nonce());
}

discovery::DiscoveryRequest nack(const discovery::DiscoveryResponse& resp, const std::string& error,
                                 std::vector<std::string> resource_names = {}) {
  auto r = request(resp.type_url(), std::move(resource_names), "", resp.nonce());
  r.mutable_error_detail()->set_code(3);
  r.mutable_error_detail()->set_message(error);
  return r;
}

// The value of a counter or gauge (or a histogram's count) with `labels`,
// -1 when absent.
double metric(prometheus::Registry& registry, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> have;
      for (const auto& l : m.label) have[l.name] = l.value;
      if (have != labels) continue;
      switch (family.type) {
        case prometheus::MetricType::Counter:
          return m.counter.value;
        case prometheus::MetricType::Gauge:
          return m.gauge.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(m.histogram.sample_count);
        default:
          return -1;
      }
    }
  }
  return -1;
}

// metric() once it equals `want`, or its last value after a bounded wait: a
// write's counters move when gRPC reports it done, which may come after
// the client has read the response.
double metricReaching(prometheus::Registry& registry, const std::string& name,
                      const std::map<std::string, std::string>& labels, double want) {
  double v = metric(registry, name, labels);
  for (int i = 0; i < 250 && v != want; ++i) {
    std::this_thread::sleep_for(20ms);
    v = metric(registry, name, labels);
  }
  return v;
}

class AdsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AdsServer::Options o;
    o.address = "127.0.0.1:0";
    o.match = [](const envoy::config::core::v3::Node& n) { return n.cluster(); };
    o.metrics = &registry_;
    server_ = std::make_unique<AdsServer>(std::move(o));
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
    ASSERT_GT(server_->port(), 0);
  }

  // The single stream's status for `type`; fails the test when absent.
  ProxyStatus::PerType typeStatus(const std::string& type) {
    const auto all = server_->status();
    EXPECT_EQ(all.size(), 1u);
    if (all.empty()) return {};
    for (const auto& t : all[0].types) {
      if (t.type_url == type) return t;
    }
    ADD_FAILURE() << "no status for " << type;
    return {};
  }

  // A SotW response of `type`, within the bound.
  static discovery::DiscoveryResponse expect(SotwClient& c, const std::string& type) {
    auto r = c.next();
    EXPECT_TRUE(r.has_value()) << "no response of " << type;
    if (!r) return {};
    EXPECT_EQ(r->type_url(), type);
    return *r;
  }

  prometheus::Registry registry_;
  std::unique_ptr<AdsServer> server_;
};

TEST_F(AdsServerTest, FirstResponseThenAckIsSynced) {
  server_->publish(build(v1()));
  SotwClient c(server_->port(), false);
  ASSERT_TRUE(c.send(request(kCds)));
  const auto r = expect(c, kCds);
  EXPECT_EQ(r.version_info(), "c1");
  EXPECT_FALSE(r.nonce().empty());
  EXPECT_EQ(names(r), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(typeStatus(kCds).state, State::Stale);
  EXPECT_EQ(typeStatus(kCds).version_sent, "c1");

  ASSERT_TRUE(c.send(ack(r)));
  EXPECT_FALSE(c.next(kQuiet)) << "an ACK gets no reply";
  const auto st = typeStatus(kCds);
  EXPECT_EQ(st.state, State::Synced);
  EXPECT_EQ(st.version_acked, "c1");

  const auto all = server_->status();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].node_id, "proxy-1");
  EXPECT_EQ(all[0].node_cluster, "g");
  EXPECT_EQ(all[0].group, "g");
  EXPECT_FALSE(all[0].delta);
  EXPECT_EQ(all[0].peer.rfind("ipv4:127.0.0.1:", 0), 0u) << all[0].peer;
}

TEST_F(AdsServerTest, StreamBeforeAnySnapshotGetsTheFirstPublish) {
  SotwClient c(server_->port(), false);
  ASSERT_TRUE(c.send(request(kLds)));
  EXPECT_FALSE(c.next(kQuiet));
  server_->publish(build(v1()));
  const auto r = expect(c, kLds);
  EXPECT_EQ(r.version_info(), "l1");
  EXPECT_EQ(names(r), (std::vector<std::string>{"admin", "web"}));
}

TEST_F(AdsServerTest, NackIsRecordedAndTheVersionNotSentAgain) {
  server_->publish(build(v1()));
  SotwClient c(server_->port(), false);
  ASSERT_TRUE(c.send(request(kCds)));
  ASSERT_TRUE(c.send(request(kLds)));
  auto cds = expect(c, kCds);
  auto lds = expect(c, kLds);
  ASSERT_TRUE(c.send(ack(cds)));
  ASSERT_TRUE(c.send(nack(lds, "listener web: bad filter")));
  EXPECT_FALSE(c.next(kQuiet)) << "a NACK gets no reply";
  auto st = typeStatus(kLds);
  EXPECT_EQ(st.state, State::Nacked);
  EXPECT_EQ(st.error, "listener web: bad filter");
  EXPECT_EQ(st.version_sent, "l1");
  EXPECT_EQ(st.version_acked, "");
  EXPECT_EQ(metric(registry_, "sluice_control_nacks_total", {{"type", "Listener"}}), 1);
  EXPECT_EQ(metric(registry_, "sluice_control_nacks_total", {{"type", "Cluster"}}), 0);

  // A publish that changes the clusters only: the refused listeners stay unsent.
  auto spec = v1();
  spec.types[kCds] = {"c2", {{"a", "2"}}};
  server_->publish(build(spec));
  cds = expect(c, kCds);
  EXPECT_EQ(cds.version_info(), "c2");
  ASSERT_TRUE(c.send(ack(cds)));
  EXPECT_FALSE(c.next(kQuiet)) << "the NACKed listener version must not be sent again";
  EXPECT_EQ(typeStatus(kLds).state, State::Nacked);

  // The next listener version goes.
  spec.types[kLds] = {"l2", {{"web", "2"}}};
  server_->publish(build(spec));
  lds = expect(c, kLds);
  EXPECT_EQ(lds.version_info(), "l2");
  EXPECT_EQ(typeStatus(kLds).state, State::Stale);
  ASSERT_TRUE(c.send(ack(lds)));
  EXPECT_FALSE(c.next(kQuiet));
  st = typeStatus(kLds);
  EXPECT_EQ(st.state, State::Synced);
  EXPECT_EQ(st.error, "");
}

TEST_F(AdsServerTest, StaleNonceIsIgnored) {
  server_->publish(build(v1()));
  SotwClient c(server_->port(), false);
  ASSERT_TRUE(c.send(request(kRds, {"routes"})));
  const auto first = expect(c, kRds);
  auto spec = v1();
  spec.types[kRds] = {"r2", {{"routes", "2"}, {"other", "2"}}};
  server_->publish(build(spec));
  const auto second = expect(c, kRds);
  EXPECT_EQ(second.version_info(), "r2");
  ASSERT_NE(first.nonce(), second.nonce());

  // The ACK of the first response, with a new name: stale, so no reply and
  // no change of subscription.
  ASSERT_TRUE(c.send(ack(first, {"routes", "other"})));
  EXPECT_FALSE(c.next(kQuiet)) << "a stale nonce gets no reply";
  EXPECT_EQ(typeStatus(kRds).state, State::Stale);
  EXPECT_EQ(typeStatus(kRds).version_acked, "");
  // The same with the latest nonce is a subscription change: answered.
  ASSERT_TRUE(c.send(ack(second, {"routes", "other"})));
  const auto third = expect(c, kRds);
  EXPECT_EQ(third.version_info(), "r2");
  EXPECT_EQ(names(third), (std::vector<std::string>{"other", "routes"}));
}

TEST_F(AdsServerTest, OnlyChangedTypesArePushedInOrder) {
  server_->publish(build(v1()));
  SotwClient c(server_->port(), false);
  // Asked in the proxyless order; answered as asked.
  ASSERT_TRUE(c.send(request(kLds)));
  ASSERT_TRUE(c.send(request(kRds, {"routes"})));
  ASSERT_TRUE(c.send(request(kCds)));
  ASSERT_TRUE(c.send(request(kEds, {"a"})));
  std::map<std::string, discovery::DiscoveryResponse> got;
  for (int i = 0; i < 4; ++i) {
    auto r = c.next();
    ASSERT_TRUE(r);
    got[r->type_url()] = *r;
  }
  for (const auto& [type, r] : got)
    ASSERT_TRUE(c.send(ack(r, type == kRds   ? std::vector<std::string>{"routes"}
                              : type == kEds ? std::vector<std::string>{"a"}
                                             : std::vector<std::string>{})));
  EXPECT_FALSE(c.next(kQuiet));

  // Everything but the routes changes: clusters, endpoints, listeners, in that order.
  auto spec = v1();
  spec.types[kLds] = {"l2", {{"web", "2"}}};
  spec.types[kCds] = {"c2", {{"a", "2"}, {"b", "1"}}};
  spec.types[kEds] = {"e2", {{"a", "2"}, {"b", "1"}}};
  server_->publish(build(spec));
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    auto r = c.next();
    ASSERT_TRUE(r);
    order.push_back(r->type_url());
  }
  EXPECT_EQ(order, (std::vector<std::string>{kCds, kEds, kLds}));
  EXPECT_FALSE(c.next(kQuiet)) << "the unchanged routes are not pushed";
  EXPECT_EQ(metric(registry_, "sluice_control_pushes_total", {{"type", "Cluster"}}), 2);
  EXPECT_EQ(metric(registry_, "sluice_control_pushes_total", {{"type", "RouteConfiguration"}}), 1);
  EXPECT_EQ(metric(registry_, "sluice_control_push_latency_seconds"), 3) << "one per pushed response";
}

TEST_F(AdsServerTest, FullSetForListenersAndClustersNamesForTheOthers) {
  server_->publish(build(v1()));
  SotwClient c(server_->port(), false);
  ASSERT_TRUE(c.send(request(kCds)));
  EXPECT_EQ(names(expect(c, kCds)), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(c.send(request(kEds, {"b", "nonexistent"})));
  const auto eds = expect(c, kEds);
  EXPECT_EQ(names(eds), (std::vector<std::string>{"b"})) << "a name that does not exist is simply absent";
  ASSERT_TRUE(c.send(request(kRds, {"routes"})));
  const auto rds = expect(c, kRds);
  EXPECT_EQ(names(rds), (std::vector<std::string>{"routes"}));

  // An ACK that adds a name: answered at the same version with both.
  ASSERT_TRUE(c.send(ack(rds, {"routes", "other"})));
  const auto rds2 = expect(c, kRds);
  EXPECT_EQ(rds2.version_info(), "r1");
  EXPECT_EQ(names(rds2), (std::vector<std::string>{"other", "routes"}));
  // A cluster removed from the snapshot disappears from the full set.
  auto spec = v1();
  spec.types[kCds] = {"c2", {{"a", "1"}}};
  server_->publish(build(spec));
  EXPECT_EQ(names(expect(c, kCds)), (std::vector<std::string>{"a"}));
}

TEST_F(AdsServerTest, ExplicitListenerNamesAndOnDemandListeners) {
  auto snapshot = build(v1());
  std::atomic<int> translations = 0;  // counted on gRPC's threads
  snapshot->on_demand_listener = [&translations](std::string_view name) -> std::optional<xds::Resource> {
    ++translations;
    if (name != "echo" && name != "echo:50051") return std::nullopt;
    envoy::config::listener::v3::Listener l;
    l.set_name(std::string(name));
    l.mutable_api_listener();
    xds::Resource r;
    r.name = std::string(name);
    r.body.PackFrom(l);
    return r;
  };
  server_->publish(snapshot);
  SotwClient c(server_->port(), false);
  ASSERT_TRUE(c.send(request(kLds, {"echo:50051"})));
  const auto r = expect(c, kLds);
  EXPECT_EQ(names(r), (std::vector<std::string>{"echo:50051"}));
  ASSERT_TRUE(c.send(ack(r, {"echo:50051", "web", "unknown"})));
  const auto r2 = expect(c, kLds);
  EXPECT_EQ(names(r2), (std::vector<std::string>{"echo:50051", "web"}));

  // A second client asking the same name: translated once per snapshot.
  const int before = translations.load();
  SotwClient c2(server_->port(), false);
  ASSERT_TRUE(c2.send(request(kLds, {"echo:50051"})));
  EXPECT_EQ(names(expect(c2, kLds)), (std::vector<std::string>{"echo:50051"}));
  EXPECT_EQ(translations, before);
}

TEST_F(AdsServerTest, UnmatchedNodeWaitsForItsGroup) {
  server_->publish(build(v1()));
  SotwClient c(server_->port(), false);
  auto req = request(kCds);
  req.mutable_node()->set_cluster("");  // matches no group
  ASSERT_TRUE(c.send(req));
  EXPECT_FALSE(c.next(kQuiet));
  ASSERT_EQ(server_->status().size(), 1u);
  EXPECT_EQ(server_->status()[0].group, "");
  // Another group's publish does not concern it either.
  auto other = v1();
  other.group = "h";
  server_->publish(build(other));
  EXPECT_FALSE(c.next(kQuiet));
}

TEST_F(AdsServerTest, ProxiesConnectedAndShutdownEndsStreams) {
  server_->publish(build(v1()));
  EXPECT_EQ(metric(registry_, "sluice_control_proxies_connected"), 0);
  {
    SotwClient c(server_->port(), false);
    ASSERT_TRUE(c.send(request(kCds)));
    expect(c, kCds);
    EXPECT_EQ(metric(registry_, "sluice_control_proxies_connected"), 1);
  }
  // The client went away: bounded wait for the server to notice.
  for (int i = 0; i < 100 && metric(registry_, "sluice_control_proxies_connected") != 0; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(metric(registry_, "sluice_control_proxies_connected"), 0);
  EXPECT_TRUE(server_->status().empty());

  SotwClient c(server_->port(), false);
  ASSERT_TRUE(c.send(request(kCds)));
  expect(c, kCds);
  DeltaClient d(server_->port(), true);
  discovery::DeltaDiscoveryRequest dr;
  dr.set_type_url(kCds);
  dr.mutable_node()->set_cluster("g");
  ASSERT_TRUE(d.send(dr));
  ASSERT_TRUE(d.next());
  server_->shutdown();
  EXPECT_TRUE(c.waitClosed(5s));
  EXPECT_TRUE(d.waitClosed(5s));
}

TEST_F(AdsServerTest, ASecondServerOnTheSameAddressFailsToStart) {
  // Two control planes on one port would split the proxies between them.
  AdsServer::Options o;
  o.address = "127.0.0.1:" + std::to_string(server_->port());
  o.match = [](const envoy::config::core::v3::Node& n) { return n.cluster(); };
  prometheus::Registry registry;
  o.metrics = &registry;
  AdsServer second(std::move(o));
  std::string error;
  EXPECT_FALSE(second.start(error));
  EXPECT_EQ(error, "ADS server: cannot listen on 127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(AdsServerTest, ManyStreamsEachGetOnePushPerPublish) {
  // Streams on gRPC's callback threads, no thread per stream: 200 proxies
  // (the client side has a reader thread each; the server has none).
  constexpr int kStreams = 200;
  server_->publish(build(v1()));
  std::vector<std::unique_ptr<SotwClient>> clients;
  for (int i = 0; i < kStreams; ++i) {
    clients.push_back(std::make_unique<SotwClient>(server_->port(), false));
    auto r = request(kCds);
    r.mutable_node()->set_id("proxy-" + std::to_string(i));
    ASSERT_TRUE(clients.back()->send(r));
  }
  for (auto& c : clients) {
    const auto r = expect(*c, kCds);
    ASSERT_TRUE(c->send(ack(r)));
  }
  EXPECT_EQ(metric(registry_, "sluice_control_proxies_connected"), kStreams);

  auto spec = v1();
  spec.types[kCds] = {"c2", {{"a", "2"}}};
  server_->publish(build(spec));
  for (auto& c : clients) {
    const auto r = expect(*c, kCds);
    EXPECT_EQ(r.version_info(), "c2");
    ASSERT_TRUE(c->send(ack(r)));
  }
  EXPECT_EQ(metric(registry_, "sluice_control_pushes_total", {{"type", "Cluster"}}), 2 * kStreams);
  EXPECT_EQ(metric(registry_, "sluice_control_push_latency_seconds"), kStreams);
  // Every ACK read (bounded): all SYNCED at c2.
  int synced = 0;
  for (int i = 0; i < 250 && synced != kStreams; ++i) {
    synced = 0;
    for (const auto& p : server_->status()) {
      for (const auto& t : p.types) synced += t.type_url == kCds && t.state == State::Synced && t.version_acked == "c2";
    }
    if (synced != kStreams) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(synced, kStreams);
}

// A response body is serialized once per group, type and version and its
// bytes shared by the streams that send it; each stream's own nonce goes
// after it, and the client's parser sees one whole DiscoveryResponse.
TEST_F(AdsServerTest, StreamsOfAGroupShareOneSerializedResponseEachWithItsNonce) {
  server_->publish(build(v1()));
  SotwClient a(server_->port(), false), b(server_->port(), false);
  ASSERT_TRUE(a.send(request(kLds)));  // a's nonces run one ahead of b's
  ASSERT_TRUE(a.send(ack(expect(a, kLds))));
  ASSERT_TRUE(a.send(request(kCds)));
  const auto from_a = expect(a, kCds);
  ASSERT_TRUE(b.send(request(kCds)));
  const auto from_b = expect(b, kCds);
  EXPECT_EQ(from_a.nonce(), "2");
  EXPECT_EQ(from_b.nonce(), "1");
  auto without_nonce = [](discovery::DiscoveryResponse r) {
    r.clear_nonce();
    return r;
  };
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(without_nonce(from_a), without_nonce(from_b)));
  EXPECT_EQ(names(from_b), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(metric(registry_, "sluice_control_responses_serialized_total", {{"type", "Cluster"}}), 1);
  EXPECT_EQ(metricReaching(registry_, "sluice_control_pushes_total", {{"type", "Cluster"}}, 2), 2);
  ASSERT_TRUE(a.send(ack(from_a)));
  ASSERT_TRUE(b.send(ack(from_b)));

  // A push: one more body, two more writes, the nonces still each stream's.
  auto spec = v1();
  spec.types[kCds] = {"c2", {{"a", "2"}}};
  server_->publish(build(spec));
  const auto pushed_a = expect(a, kCds), pushed_b = expect(b, kCds);
  EXPECT_EQ(pushed_a.version_info(), "c2");
  EXPECT_EQ(pushed_a.nonce(), "3");
  EXPECT_EQ(pushed_b.nonce(), "2");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(without_nonce(pushed_a), without_nonce(pushed_b)));
  EXPECT_EQ(metric(registry_, "sluice_control_responses_serialized_total", {{"type", "Cluster"}}), 2);
  EXPECT_EQ(metricReaching(registry_, "sluice_control_pushes_total", {{"type", "Cluster"}}, 4), 4);
  // A third stream joining later shares the body the others still hold.
  SotwClient c(server_->port(), false);
  ASSERT_TRUE(c.send(request(kCds)));
  EXPECT_EQ(expect(c, kCds).version_info(), "c2");
  EXPECT_EQ(metric(registry_, "sluice_control_responses_serialized_total", {{"type", "Cluster"}}), 2);
}

TEST(AdsServerRematch, StreamsFollowTheMatchersNewAnswer) {
  // The matcher reads a table the test changes, as the daemon's reads its config.
  std::mutex mu;
  std::map<std::string, std::string> group_of{{"proxy-1", "g"}};
  AdsServer::Options o;
  o.address = "127.0.0.1:0";
  o.match = [&](const envoy::config::core::v3::Node& n) {
    std::lock_guard lock(mu);
    auto it = group_of.find(n.id());
    return it == group_of.end() ? std::string() : it->second;
  };
  AdsServer server(std::move(o));
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;
  server.publish(build(v1()));
  auto other = v1();
  other.group = "h";
  other.types[kCds] = {"h1", {{"x", "1"}}};
  server.publish(build(other));

  SotwClient c(server.port(), false);
  ASSERT_TRUE(c.send(request(kCds)));
  auto r = c.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(c.send(ack(*r)));
  SotwClient lost(server.port(), false);
  auto req = request(kCds);
  req.mutable_node()->set_id("proxy-2");  // in no group yet
  ASSERT_TRUE(lost.send(req));
  EXPECT_FALSE(lost.next(kQuiet));

  {
    std::lock_guard lock(mu);
    group_of["proxy-1"] = "h";
    group_of["proxy-2"] = "g";
  }
  server.rematch();
  r = c.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version_info(), "h1");
  EXPECT_EQ(names(*r), (std::vector<std::string>{"x"}));
  r = lost.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version_info(), "c1");
  // Nothing moves when nothing changed.
  server.rematch();
  EXPECT_FALSE(c.next(kQuiet));
  std::map<std::string, std::string> groups;
  for (const auto& p : server.status()) groups[p.node_id] = p.group;
  EXPECT_EQ(groups, (std::map<std::string, std::string>{{"proxy-1", "h"}, {"proxy-2", "g"}}));
}

// Delta.

discovery::DeltaDiscoveryRequest deltaRequest(const std::string& type, std::vector<std::string> subscribe = {},
                                              std::vector<std::string> unsubscribe = {},
                                              const std::string& nonce = "") {
  discovery::DeltaDiscoveryRequest r;
  r.set_type_url(type);
  r.mutable_node()->set_id("proxy-d");
  r.mutable_node()->set_cluster("g");
  for (auto& n : subscribe) r.add_resource_names_subscribe(n);
  for (auto& n : unsubscribe) r.add_resource_names_unsubscribe(n);
  r.set_response_nonce(nonce);
  return r;
}

discovery::DeltaDiscoveryRequest deltaAck(const discovery::DeltaDiscoveryResponse& r) {
  return deltaRequest(r.type_url(), {}, {}, r.nonce());
}

// name -> version of a delta response's resources.
std::map<std::string, std::string> versions(const discovery::DeltaDiscoveryResponse& r) {
  std::map<std::string, std::string> out;
  for (const auto& res : r.resources()) out[res.name()] = res.version();
  return out;
}

std::vector<std::string> removed(const discovery::DeltaDiscoveryResponse& r) {
  std::vector<std::string> out(r.removed_resources().begin(), r.removed_resources().end());
  std::sort(out.begin(), out.end());
  return out;
}

discovery::DeltaDiscoveryResponse expectDelta(DeltaClient& c, const std::string& type) {
  auto r = c.next();
  EXPECT_TRUE(r.has_value()) << "no delta response of " << type;
  if (!r) return {};
  EXPECT_EQ(r->type_url(), type);
  return *r;
}

TEST_F(AdsServerTest, DeltaWildcardChangesAndRemovals) {
  server_->publish(build(v1()));
  DeltaClient c(server_->port(), true);
  ASSERT_TRUE(c.send(deltaRequest(kCds)));
  auto r = expectDelta(c, kCds);
  EXPECT_EQ(r.system_version_info(), "c1");
  EXPECT_EQ(versions(r), (std::map<std::string, std::string>{{"a", "1"}, {"b", "1"}}));
  EXPECT_TRUE(r.removed_resources().empty());
  ASSERT_TRUE(c.send(deltaAck(r)));
  EXPECT_FALSE(c.next(kQuiet));
  auto st = server_->status();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_TRUE(st[0].delta);
  EXPECT_EQ(typeStatus(kCds).state, State::Synced);

  // a changes, b goes, c comes: only those.
  auto spec = v1();
  spec.types[kCds] = {"c2", {{"a", "2"}, {"c", "1"}}};
  server_->publish(build(spec));
  r = expectDelta(c, kCds);
  EXPECT_EQ(r.system_version_info(), "c2");
  EXPECT_EQ(versions(r), (std::map<std::string, std::string>{{"a", "2"}, {"c", "1"}}));
  EXPECT_EQ(removed(r), (std::vector<std::string>{"b"}));
  EXPECT_EQ(typeStatus(kCds).state, State::Stale);

  // NACK: recorded; the refused resources are not sent again.
  discovery::DeltaDiscoveryRequest n = deltaAck(r);
  n.mutable_error_detail()->set_message("cluster c: bad");
  ASSERT_TRUE(c.send(n));
  EXPECT_FALSE(c.next(kQuiet));
  EXPECT_EQ(typeStatus(kCds).state, State::Nacked);
  EXPECT_EQ(typeStatus(kCds).error, "cluster c: bad");
  EXPECT_EQ(metric(registry_, "sluice_control_nacks_total", {{"type", "Cluster"}}), 1);
  spec.types[kLds] = {"l2", {{"web", "2"}}};
  server_->publish(build(spec));
  EXPECT_FALSE(c.next(kQuiet)) << "listeners are not subscribed; clusters did not change";
}

TEST_F(AdsServerTest, DeltaExplicitSubscribeAndUnsubscribe) {
  server_->publish(build(v1()));
  DeltaClient c(server_->port(), true);
  ASSERT_TRUE(c.send(deltaRequest(kEds, {"a"})));
  auto r = expectDelta(c, kEds);
  EXPECT_EQ(versions(r), (std::map<std::string, std::string>{{"a", "1"}}));
  ASSERT_TRUE(c.send(deltaAck(r)));
  ASSERT_TRUE(c.send(deltaRequest(kEds, {"b"})));
  r = expectDelta(c, kEds);
  EXPECT_EQ(versions(r), (std::map<std::string, std::string>{{"b", "1"}})) << "only the newly subscribed";
  ASSERT_TRUE(c.send(deltaAck(r)));
  ASSERT_TRUE(c.send(deltaRequest(kEds, {}, {"a"})));
  EXPECT_FALSE(c.next(kQuiet)) << "an unsubscribe gets no reply";

  // a and b change, b is removed later: nothing more about a.
  auto spec = v1();
  spec.types[kEds] = {"e2", {{"a", "2"}, {"b", "2"}}};
  server_->publish(build(spec));
  r = expectDelta(c, kEds);
  EXPECT_EQ(versions(r), (std::map<std::string, std::string>{{"b", "2"}}));
  ASSERT_TRUE(c.send(deltaAck(r)));
  spec.types[kEds] = {"e3", {{"a", "3"}}};
  server_->publish(build(spec));
  r = expectDelta(c, kEds);
  EXPECT_TRUE(r.resources().empty());
  EXPECT_EQ(removed(r), (std::vector<std::string>{"b"}));
}

TEST_F(AdsServerTest, DeltaResumesFromInitialResourceVersions) {
  server_->publish(build(v1()));
  DeltaClient c(server_->port(), true);
  auto req = deltaRequest(kCds);
  (*req.mutable_initial_resource_versions())["a"] = "1";     // current
  (*req.mutable_initial_resource_versions())["b"] = "0";     // older
  (*req.mutable_initial_resource_versions())["gone"] = "7";  // no longer exists
  ASSERT_TRUE(c.send(req));
  auto r = expectDelta(c, kCds);
  EXPECT_EQ(versions(r), (std::map<std::string, std::string>{{"b", "1"}}));
  EXPECT_EQ(removed(r), (std::vector<std::string>{"gone"}));

  // A client that already holds everything still gets its first answer, empty.
  DeltaClient c2(server_->port(), true);
  auto req2 = deltaRequest(kLds);
  (*req2.mutable_initial_resource_versions())["web"] = "1";
  (*req2.mutable_initial_resource_versions())["admin"] = "1";
  ASSERT_TRUE(c2.send(req2));
  r = expectDelta(c2, kLds);
  EXPECT_EQ(r.system_version_info(), "l1");
  EXPECT_TRUE(r.resources().empty());
  EXPECT_TRUE(r.removed_resources().empty());
}

TEST_F(AdsServerTest, DeltaStreamsLackingTheSameChangesShareOneSerializedResponse) {
  server_->publish(build(v1()));
  DeltaClient a(server_->port(), true), b(server_->port(), true);
  ASSERT_TRUE(a.send(deltaRequest(kCds)));
  ASSERT_TRUE(a.send(deltaAck(expectDelta(a, kCds))));
  ASSERT_TRUE(b.send(deltaRequest(kCds)));
  ASSERT_TRUE(b.send(deltaAck(expectDelta(b, kCds))));
  EXPECT_EQ(metric(registry_, "sluice_control_responses_serialized_total", {{"type", "Cluster"}}), 1);

  auto spec = v1();
  spec.types[kCds] = {"c2", {{"a", "2"}}};
  server_->publish(build(spec));
  for (DeltaClient* c : {&a, &b}) {
    const auto r = expectDelta(*c, kCds);
    EXPECT_EQ(versions(r), (std::map<std::string, std::string>{{"a", "2"}}));
    EXPECT_EQ(removed(r), (std::vector<std::string>{"b"}));
    EXPECT_EQ(r.nonce(), "2");
  }
  EXPECT_EQ(metric(registry_, "sluice_control_responses_serialized_total", {{"type", "Cluster"}}), 2);
  EXPECT_EQ(metricReaching(registry_, "sluice_control_pushes_total", {{"type", "Cluster"}}, 4), 4);
}

}  // namespace
}  // namespace sluice::control
