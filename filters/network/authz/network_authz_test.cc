// The network authz filter on real connections (socketpair, fake TLS info):
// an allowed connection goes on to the next filter; a denied one is closed
// at once, stops the chain and is counted; identity comes from tlsInfo().
#include "filters/network/authz/filter.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "tests/unit/authz/test_connection.h"

namespace sluice::filters::network_authz {
namespace {

using sluice::authz::testing::TestConnection;
using sluice::authz::testing::verifiedPeer;

class FakeReadCallbacks final : public net::ReadFilterCallbacks {
 public:
  explicit FakeReadCallbacks(net::Connection& c) : conn_(c) {}
  net::Connection& connection() override { return conn_; }

 private:
  net::Connection& conn_;
};

std::shared_ptr<const NetworkAuthzConfig> parse(const std::string& yaml) {
  config::ParseContext ctx("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "authz");
  const auto spec = reader().read(r);
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  return std::static_pointer_cast<const NetworkAuthzConfig>(factory().build(*spec));
}

int64_t decisions(const std::string& prefix, const std::string& action, const std::string& rule) {
  return stats::namedCounter("sluice_authz_decisions_total", "",
                             {{"stat_prefix", prefix}, {"layer", "network"}, {"action", action}, {"rule", rule}})
      ->value();
}

// Runs the filter on a connection from `peer`; returns the status.
net::FilterStatus run(const NetworkAuthzConfig& cfg, TestConnection& tc, event::Loop& loop) {
  FakeReadCallbacks cb(*tc.conn);
  NetworkAuthzFilter f(cfg, loop);
  f.initialize(cb);
  return f.onNewConnection();
}

TEST(NetworkAuthzFilterTest, SourceIpAllowAndDefaultDeny) {
  auto cfg = parse(R"(
stat_prefix: l4-src
default_action: deny
rules: [{name: lan, action: allow, principals: [{source_ip: 10.0.0.0/8}]}]
)");
  event::Loop loop;
  TestConnection ok(loop, "10.1.2.3:4000");
  EXPECT_EQ(run(*cfg, ok, loop), net::FilterStatus::Continue);
  EXPECT_TRUE(ok.conn->open());
  EXPECT_EQ(decisions("l4-src", "allow", "lan"), 1);

  TestConnection bad(loop, "192.168.1.1:4000");
  EXPECT_EQ(run(*cfg, bad, loop), net::FilterStatus::StopIteration);
  EXPECT_FALSE(bad.conn->open());
  EXPECT_EQ(bad.conn->closeReason(), net::CloseReason::Local);
  EXPECT_EQ(decisions("l4-src", "deny", "default"), 1);
  char byte;
  EXPECT_EQ(::read(bad.other_fd, &byte, 1), 0) << "the peer sees the connection end, with no bytes";
}

TEST(NetworkAuthzFilterTest, SpiffeIdentityFromTheHandshake) {
  auto cfg = parse(R"(
stat_prefix: l4-id
default_action: deny
rules:
  - {name: clients, action: allow, principals: [{spiffe_id: {prefix: "spiffe://sluice.test/ns/default/"}}]}
  - {name: banned, action: deny, principals: [{spiffe_id: {exact: "spiffe://sluice.test/ns/default/sa/banned"}}]}
)");
  event::Loop loop;
  TestConnection client(loop, "10.0.0.1:1", verifiedPeer("spiffe://sluice.test/ns/default/sa/client"));
  EXPECT_EQ(run(*cfg, client, loop), net::FilterStatus::Continue);
  TestConnection banned(loop, "10.0.0.1:2", verifiedPeer("spiffe://sluice.test/ns/default/sa/banned"));
  EXPECT_EQ(run(*cfg, banned, loop), net::FilterStatus::StopIteration) << "deny wins over the prefix allow";
  TestConnection plaintext(loop, "10.0.0.1:3");
  EXPECT_EQ(run(*cfg, plaintext, loop), net::FilterStatus::StopIteration);
  net::TlsInfo unverified = verifiedPeer("spiffe://sluice.test/ns/default/sa/client");
  unverified.peer_certificate_verified = false;
  TestConnection forged(loop, "10.0.0.1:4", unverified);
  EXPECT_EQ(run(*cfg, forged, loop), net::FilterStatus::StopIteration);

  EXPECT_EQ(decisions("l4-id", "allow", "clients"), 1);
  EXPECT_EQ(decisions("l4-id", "deny", "banned"), 1);
  EXPECT_EQ(decisions("l4-id", "deny", "default"), 2);
}

}  // namespace
}  // namespace sluice::filters::network_authz
