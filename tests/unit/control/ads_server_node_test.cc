// The ADS server against an independent client: Node's @grpc/grpc-js with
// the Envoy protos loaded by @grpc/proto-loader
// (tests/integration/support/xds_client.js), over a loopback socket. The
// same protocol rules as ads_server_test.cc, seen through another gRPC and
// protobuf stack: first responses, ACK, NACK not resent, stale nonces,
// changed types only and in order, on-demand listeners, delta removals and
// resume.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "control/ads_server.h"
#include "tests/integration/support/xds_client.h"
#include "tests/unit/control/ads_test_snapshots.h"

namespace sluice::control {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::build;
using testing::kCds;
using testing::kEds;
using testing::kLds;
using testing::kRds;
using itest::XdsClientProcess;
using testing::v1;
constexpr auto kQuiet = 400ms;

json node() { return {{"id", "node-proxy"}, {"cluster", "g"}}; }

json request(const std::string& type, std::vector<std::string> names = {}) {
  return {{"type_url", type}, {"node", node()}, {"resource_names", names}};
}

json ack(const json& response, std::vector<std::string> names = {}) {
  return {{"type_url", response["type_url"]},
          {"version_info", response["version_info"]},
          {"response_nonce", response["nonce"]},
          {"resource_names", names}};
}

class AdsServerNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AdsServer::Options o;
    o.address = "127.0.0.1:0";
    o.match = [](const envoy::config::core::v3::Node& n) { return n.cluster(); };
    server_ = std::make_unique<AdsServer>(std::move(o));
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
  }

  std::unique_ptr<XdsClientProcess> client(const std::string& mode) {
    auto c = std::make_unique<XdsClientProcess>(server_->port(), mode);
    EXPECT_TRUE(c->ok()) << c->error();
    return c;
  }

  // Waits (bounded) until the only stream's `type` is ACKed at `version`:
  // the server has read the request that carried the ACK.
  bool acked(const std::string& type, const std::string& version) {
    for (int i = 0; i < 250; ++i) {
      const auto status = server_->status();
      for (const auto& p : status) {
        for (const auto& t : p.types) {
          if (t.type_url == type && t.version_acked == version) return true;
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::unique_ptr<AdsServer> server_;
};

TEST_F(AdsServerNodeTest, SotwAckNackStaleAndOrder) {
  server_->publish(build(v1()));
  auto c = client("sotw");
  ASSERT_TRUE(c->ok());
  c->send(request(kCds));
  auto cds = c->next(15s);  // Node's start-up and proto loading are in this one
  ASSERT_EQ(cds.value("type_url", ""), kCds) << cds.dump();
  EXPECT_EQ(cds["version_info"], "c1");
  EXPECT_EQ(cds["names"], json({"a", "b"}));
  EXPECT_TRUE(cds["typed"].get<bool>());
  c->send(ack(cds));

  c->send(request(kRds, {"routes", "absent"}));
  auto rds = c->next();
  ASSERT_EQ(rds.value("type_url", ""), kRds) << rds.dump();
  EXPECT_EQ(rds["names"], json({"routes"}));
  c->send(ack(rds, {"routes", "absent"}));
  c->send(request(kLds));
  auto lds = c->next();
  ASSERT_EQ(lds.value("type_url", ""), kLds) << lds.dump();
  EXPECT_EQ(lds["names"], json({"admin", "web"}));

  // NACK the listeners: no reply, recorded, not sent again.
  json n = ack(lds);
  n["version_info"] = "";
  n["error_detail"] = {{"code", 3}, {"message", "node says no"}};
  c->send(n);
  const auto after_nack = c->next(kQuiet);
  EXPECT_TRUE(after_nack.contains("timeout")) << after_nack.dump();
  bool nacked = false;
  const auto status = server_->status();
  ASSERT_EQ(status.size(), 1u);
  for (const auto& t : status[0].types) {
    if (t.type_url == kLds) nacked = t.state == ProxyStatus::PerType::State::Nacked && t.error == "node says no";
  }
  EXPECT_TRUE(nacked);

  // Clusters and routes change: clusters then routes, no listeners.
  auto spec = v1();
  spec.types[kCds] = {"c2", {{"a", "2"}}};
  spec.types[kRds] = {"r2", {{"routes", "2"}}};
  server_->publish(build(spec));
  auto first = c->next();
  auto second = c->next();
  EXPECT_EQ(first.value("type_url", ""), kCds) << first.dump();
  EXPECT_EQ(first["names"], json({"a"}));
  EXPECT_EQ(second.value("type_url", ""), kRds) << second.dump();
  EXPECT_EQ(second["version_info"], "r2");
  EXPECT_TRUE(c->next(kQuiet).contains("timeout")) << "the NACKed listeners must not come again";

  // An ACK of the superseded CDS response (stale nonce) with new names: ignored.
  c->send(ack(cds, {"a", "b"}));
  EXPECT_TRUE(c->next(kQuiet).contains("timeout")) << "a stale nonce gets no reply";
}

TEST_F(AdsServerNodeTest, SotwOnDemandListener) {
  auto snapshot = build(v1());
  snapshot->on_demand_listener = [](std::string_view name) -> std::optional<xds::Resource> {
    if (name != "echo:50051") return std::nullopt;
    envoy::config::listener::v3::Listener l;
    l.set_name(std::string(name));
    l.mutable_api_listener();
    return xds::Resource{std::string(name), [&] {
                           google::protobuf::Any a;
                           a.PackFrom(l);
                           return a;
                         }()};
  };
  server_->publish(snapshot);
  auto c = client("sotw");
  ASSERT_TRUE(c->ok());
  c->send(request(kLds, {"echo:50051", "nope"}));
  auto lds = c->next(15s);
  ASSERT_EQ(lds.value("type_url", ""), kLds) << lds.dump();
  EXPECT_EQ(lds["names"], json({"echo:50051"}));
  EXPECT_TRUE(lds["typed"].get<bool>());
}

TEST_F(AdsServerNodeTest, DeltaSubscribeRemoveAndResume) {
  server_->publish(build(v1()));
  auto c = client("delta");
  ASSERT_TRUE(c->ok());
  c->send({{"type_url", kEds}, {"node", node()}, {"resource_names_subscribe", {"a", "b"}},
           {"initial_resource_versions", {{"a", "1"}, {"b", "0"}}}});
  auto r = c->next(15s);
  ASSERT_EQ(r.value("type_url", ""), kEds) << r.dump();
  EXPECT_EQ(r["system_version_info"], "e1");
  EXPECT_EQ(r["resources"], json({{"b", "1"}})) << "a is held at its current version";
  EXPECT_TRUE(r["typed"].get<bool>());
  c->send({{"type_url", kEds}, {"response_nonce", r["nonce"]}});

  auto spec = v1();
  spec.types[kEds] = {"e2", {{"a", "2"}}};
  server_->publish(build(spec));
  r = c->next();
  ASSERT_EQ(r.value("type_url", ""), kEds) << r.dump();
  EXPECT_EQ(r["resources"], json({{"a", "2"}}));
  EXPECT_EQ(r["removed"], json({"b"}));
  c->send({{"type_url", kEds}, {"response_nonce", r["nonce"]}, {"resource_names_unsubscribe", {"a"}}});
  ASSERT_TRUE(acked(kEds, "e2")) << "the ACK (and unsubscribe) did not arrive";
  spec.types[kEds] = {"e3", {{"a", "3"}}};
  server_->publish(build(spec));
  const auto after = c->next(kQuiet);
  EXPECT_TRUE(after.contains("timeout")) << "a is unsubscribed: " << after.dump();
}

}  // namespace
}  // namespace sluice::control
