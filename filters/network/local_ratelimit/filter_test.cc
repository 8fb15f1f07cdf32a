// local_ratelimit (L4) filter on real accepted connections (socketpairs): a
// connection within the bucket continues, one beyond it is closed inside
// onNewConnection and stops the chain; shadow mode; per source IP; each
// build of a spec has its own buckets.
#include "filters/network/local_ratelimit/filter.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "config/yaml_reader.h"
#include "proxy/event/loop.h"
#include "proxy/net/connection.h"

namespace sluice::filters::l4_ratelimit {
namespace {

std::shared_ptr<const Spec> read(const std::string& yaml) {
  config::ParseContext ctx("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "local_ratelimit");
  auto spec = std::static_pointer_cast<const Spec>(reader().read(r));
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  return spec;
}

std::shared_ptr<const RuntimeConfig> build(const Spec& spec) {
  return std::static_pointer_cast<const RuntimeConfig>(factory().build(spec));
}

// Read, then built as a snapshot would.
std::shared_ptr<const RuntimeConfig> make(const std::string& yaml) { return build(*read(yaml)); }

struct Accepted : net::ReadFilterCallbacks, net::ConnectionCallbacks {
  Accepted(event::Loop& loop, const char* peer) {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    conn = net::Connection::accepted(loop, sv[0], *ip::Address::parse(peer), std::make_unique<net::RawTransport>());
    conn->addCallbacks(this);
    other = sv[1];
  }
  ~Accepted() { ::close(other); }
  net::Connection& connection() override { return *conn; }
  void onEvent(net::ConnectionEvent e) override { closed = closed || e == net::ConnectionEvent::Closed; }
  void onAboveWriteBufferHighWatermark() override {}
  void onBelowWriteBufferLowWatermark() override {}

  std::unique_ptr<net::Connection> conn;
  int other = -1;
  bool closed = false;
};

// Runs the filter on a new connection from `peer`; true when it was admitted.
bool admit(const RuntimeConfig& cfg, event::Loop& loop, const char* peer = "10.1.1.1:4000") {
  Accepted a(loop, peer);
  L4RateLimitFilter f(cfg, loop);
  f.initialize(a);
  const auto status = f.onNewConnection();
  EXPECT_EQ(status == net::FilterStatus::StopIteration, a.closed);
  EXPECT_EQ(a.conn->open(), !a.closed);
  return status == net::FilterStatus::Continue;
}

TEST(L4LocalRateLimitFilterTest, AdmitsTheBucketThenClosesConnections) {
  event::Loop loop;
  auto cfg = make("{stat_prefix: l4t_basic, token_bucket: {max_tokens: 3, tokens_per_fill: 3, fill_interval: 1s}}");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(admit(*cfg, loop)) << i;
  EXPECT_FALSE(admit(*cfg, loop));
  EXPECT_FALSE(admit(*cfg, loop));
  EXPECT_EQ(cfg->ok->value(), 3);
  EXPECT_EQ(cfg->limited->value(), 2);
}

TEST(L4LocalRateLimitFilterTest, ShadowAdmitsAndCounts) {
  event::Loop loop;
  auto cfg = make("{stat_prefix: l4t_shadow, shadow: true, "
                  "token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}}");
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(admit(*cfg, loop)) << i;
  EXPECT_EQ(cfg->ok->value(), 1);
  EXPECT_EQ(cfg->shadow_limited->value(), 3);
  EXPECT_EQ(cfg->limited->value(), 0);
}

TEST(L4LocalRateLimitFilterTest, PerSourceIp) {
  event::Loop loop;
  auto cfg = make("{stat_prefix: l4t_ip, per_key: {source: client_ip}, "
                  "token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}}");
  EXPECT_TRUE(admit(*cfg, loop, "10.0.0.1:1"));
  EXPECT_FALSE(admit(*cfg, loop, "10.0.0.1:2"));
  EXPECT_TRUE(admit(*cfg, loop, "10.0.0.2:1"));
}

// The buckets are made when a snapshot is built, not when the YAML is read:
// two builds of one spec (two snapshots) do not share a budget.
TEST(L4LocalRateLimitFilterTest, EachBuildHasItsOwnBucket) {
  event::Loop loop;
  auto spec = read("{stat_prefix: l4t_builds, token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 1h}}");
  auto first = build(*spec);
  auto second = build(*spec);
  EXPECT_TRUE(admit(*first, loop));
  EXPECT_TRUE(admit(*first, loop));
  EXPECT_FALSE(admit(*first, loop));
  EXPECT_TRUE(admit(*second, loop)) << "the second build starts full";
  EXPECT_TRUE(admit(*second, loop));
  EXPECT_FALSE(admit(*second, loop));
}

}  // namespace
}  // namespace sluice::filters::l4_ratelimit
