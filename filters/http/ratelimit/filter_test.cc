// ratelimit: the GCRA script's exact counts against a real redis-server, and
// the filter driven by fake stream callbacks over a real loop and Redis
// connection, its configs read and built as a snapshot would.
#include "filters/http/ratelimit/filter.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "config/yaml_reader.h"
#include "proxy/stats/named_counters.h"
#include "tests/unit/http/fake_filter_callbacks.h"
#include "tests/unit/redis/redis_server.h"

namespace sluice::filters::global_ratelimit {
namespace {

using namespace std::chrono_literals;
using sluice::http::FilterHeadersStatus;
using sluice::http::ResponseFlag;

std::shared_ptr<const RuntimeConfig> build(const std::string& yaml, bool per_route = false) {
  config::ParseContext ctx("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "ratelimit");
  auto spec = per_route ? reader().readPerRoute(r) : reader().read(r);
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  return std::static_pointer_cast<const RuntimeConfig>(factory().build(*spec));
}

// ---- Against a real redis-server ----

class RedisFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!::sluice::testing::RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
    ::signal(SIGPIPE, SIG_IGN);  // as the server does: hiredis writes with write(2)
    ASSERT_TRUE(server_.start()) << "redis-server did not start";
  }
  void TearDown() override { redis::clearThreadClients(); }  // before the callbacks' loop goes

  std::shared_ptr<const RuntimeConfig> config(uint32_t per_unit, const std::string& unit, uint32_t burst,
                                          const std::string& failure_mode = "allow",
                                          const std::string& address = "") {
    const std::string yaml = "{stat_prefix: t" + std::to_string(++configs_) + ", redis: {address: '" +
                             (address.empty() ? server_.address() : address) +
                             "', timeout: 200ms}, domain: test" + std::to_string(configs_) +
                             ", limit: {requests_per_unit: " + std::to_string(per_unit) + ", unit: " + unit +
                             ", burst: " + std::to_string(burst) +
                             "}, descriptors: [{key: header, header: x-user}], failure_mode: " + failure_mode + "}";
    return build(yaml);
  }

  ::sluice::testing::RedisServer server_;
  // One loop per test, shared by its streams: the thread's Redis client lives on it.
  sluice::http::testing::FakeDecoderCallbacks cb_;
  static inline int configs_ = 0;  // process-wide: named counters outlive a test
};

class GcraResult final : public redis::RedisRequest {
 public:
  bool done = false;
  bool ok = false;
  long long v[4] = {-1, -1, -1, -1};

 private:
  void onReply(const redis::RedisResult& r) override {
    done = true;
    if (!r.ok() || r.reply->type != REDIS_REPLY_ARRAY || r.reply->elements != 4) return;
    ok = true;
    for (int i = 0; i < 4; ++i) v[i] = r.reply->element[i]->integer;
  }
};

TEST_F(RedisFixture, GcraAdmitsExactlyBurstPlusOneThenPaces) {
  // 10 per minute (one per 6 s), burst 4: a fresh key takes 5 at once, no
  // more within this test.
  auto cfg = config(10, "minute", 4);
  auto& cb = cb_;
  auto& client = redis::threadClient(cb.loop(), cfg->spec.redis_address);
  const std::string_view keys[] = {"gcra-test-key"};
  const std::string_view args[] = {cfg->interval_arg, cfg->tolerance_arg};
  for (int i = 0; i < 8; ++i) {
    GcraResult r;
    ASSERT_TRUE(cb.runUntil([&] { return client.connected(); }));
    ASSERT_TRUE(client.eval(r, gcraScript(), keys, args, event::Duration(1000)));
    ASSERT_TRUE(cb.runUntil([&] { return r.done; }));
    ASSERT_TRUE(r.ok) << "request " << i;
    if (i < 5) {
      EXPECT_EQ(r.v[0], 1) << "request " << i << " should pass";
      EXPECT_EQ(r.v[1], 4 - i) << "remaining after request " << i;
      EXPECT_EQ(r.v[2], 0);
      EXPECT_NEAR(r.v[3], 6000 * (i + 1), 100) << "reset after request " << i;
    } else {
      EXPECT_EQ(r.v[0], 0) << "request " << i << " should be over the limit";
      EXPECT_EQ(r.v[1], 0);
      EXPECT_NEAR(r.v[2], 6000, 100) << "retry-after of request " << i;
      EXPECT_NEAR(r.v[3], 30000, 100);
    }
  }
  // The key expires when the bucket would be full again.
  const std::string pttl = server_.command({"PTTL", "gcra-test-key"});
  ASSERT_FALSE(pttl.empty());
  EXPECT_NEAR(std::stoll(pttl.substr(1)), 30000, 200) << pttl;
}

TEST_F(RedisFixture, GcraRefillsAtTheRate) {
  // 20 per second, no burst: one per 50 ms. Back to back, one passes; after
  // 60 ms the next does.
  auto cfg = config(20, "second", 0);
  auto& cb = cb_;
  auto& client = redis::threadClient(cb.loop(), cfg->spec.redis_address);
  const std::string_view keys[] = {"gcra-refill"};
  const std::string_view args[] = {cfg->interval_arg, cfg->tolerance_arg};
  auto once = [&] {
    GcraResult r;
    EXPECT_TRUE(client.eval(r, gcraScript(), keys, args, event::Duration(1000)));
    EXPECT_TRUE(cb.runUntil([&] { return r.done; }));
    return r.v[0];
  };
  ASSERT_TRUE(cb.runUntil([&] { return client.connected(); }));
  EXPECT_EQ(once(), 1);
  EXPECT_EQ(once(), 0);
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(once(), 1);
}

// One stream through the filter: decodeHeaders, then the loop until the
// filter continued or answered. `cb` is reset first, so one loop (and one
// Redis connection) serves a whole test.
struct StreamRun {
  FilterHeadersStatus status;
  int continues;
  std::optional<int> local_status;
};

void newStream(sluice::http::testing::FakeDecoderCallbacks& cb, const char* user) {
  cb.continues = 0;
  cb.local_status.reset();
  cb.streamInfo().reset();
  cb.request.clear();
  cb.per_filter_config = nullptr;
  if (user != nullptr) cb.request.add("x-user", user);
}

StreamRun runStream(RateLimitFilter& f, sluice::http::testing::FakeDecoderCallbacks& cb) {
  f.setDecoderFilterCallbacks(cb);
  StreamRun out{f.decodeHeaders(cb.request, true), 0, std::nullopt};
  if (out.status == FilterHeadersStatus::StopIteration)
    EXPECT_TRUE(cb.runUntil([&] { return cb.continues > 0 || cb.local_status.has_value(); }));
  out.continues = cb.continues;
  out.local_status = cb.local_status;
  return out;
}

TEST_F(RedisFixture, FilterPassesThenAnswers429WithHeaders) {
  auto cfg = config(60, "minute", 1);  // two at once, then one per second
  auto& cb = cb_;
  for (int i = 0; i < 3; ++i) {
    newStream(cb, "alice");
    RateLimitFilter f(*cfg);
    StreamRun run = runStream(f, cb);
    EXPECT_EQ(run.status, FilterHeadersStatus::StopIteration);
    if (i < 2) {
      EXPECT_EQ(run.continues, 1) << "request " << i;
      EXPECT_FALSE(run.local_status) << "request " << i;
    } else {
      EXPECT_EQ(run.continues, 0);
      ASSERT_EQ(run.local_status, 429);
      EXPECT_TRUE(cb.streamInfo().hasFlag(ResponseFlag::RateLimited));
      EXPECT_EQ(cb.streamInfo().details, "ratelimit_over_limit");
      // The local reply runs through the encoder chain, this filter included.
      sluice::http::HeaderMap response;
      response.setStatus(429);
      f.encodeHeaders(response, false);
      EXPECT_EQ(response.get("retry-after"), "1");
      EXPECT_EQ(response.get("x-ratelimit-limit"), "60");
      EXPECT_EQ(response.get("x-ratelimit-remaining"), "0");
      EXPECT_EQ(response.get("x-ratelimit-reset"), "2");
    }
    f.onDestroy();
  }
  EXPECT_EQ(cfg->ok->value(), 2);
  EXPECT_EQ(cfg->over_limit->value(), 1);
  EXPECT_EQ(cfg->error->value(), 0);
}

TEST_F(RedisFixture, DescriptorsKeepUsersApartAndMissingHeaderIsNotLimited) {
  auto cfg = config(60, "minute", 0);
  auto& cb = cb_;
  for (const char* user : {"bob", "carol", static_cast<const char*>(nullptr), static_cast<const char*>(nullptr)}) {
    newStream(cb, user);
    RateLimitFilter f(*cfg);
    StreamRun run = runStream(f, cb);
    if (user) {
      EXPECT_EQ(run.continues, 1) << user;
    } else {
      EXPECT_EQ(run.status, FilterHeadersStatus::Continue);  // no descriptor value, no Redis call
    }
    f.onDestroy();
  }
  EXPECT_EQ(cfg->ok->value(), 2);
  EXPECT_EQ(server_.command({"EXISTS", cfg->spec.domain + "|x-user=bob"}), ":1");
}

TEST_F(RedisFixture, AHeaderValueCannotSpellAnotherKey) {
  auto cfg = config(60, "minute", 0);
  newStream(cb_, "bob|x-user=carol%");
  RateLimitFilter f(*cfg);
  EXPECT_EQ(runStream(f, cb_).continues, 1);
  f.onDestroy();
  EXPECT_EQ(server_.command({"EXISTS", cfg->spec.domain + "|x-user=bob%7Cx-user%3Dcarol%25"}), ":1");
  EXPECT_EQ(server_.command({"EXISTS", cfg->spec.domain + "|x-user=bob|x-user=carol%"}), ":0");
}

TEST_F(RedisFixture, RouteConfigOverridesAndDisables) {
  auto listener = config(60, "minute", 0);
  auto route = config(60, "minute", 5);
  auto off = build("{disabled: true}", /*per_route=*/true);
  auto& cb = cb_;
  for (int i = 0; i < 3; ++i) {
    newStream(cb, "dave");
    cb.per_filter_config = route.get();
    RateLimitFilter f(*listener);
    EXPECT_EQ(runStream(f, cb).continues, 1) << "the route's burst of 5 applies";
    f.onDestroy();
  }
  EXPECT_EQ(route->ok->value(), 3);
  EXPECT_EQ(listener->ok->value(), 0);
  newStream(cb, "dave");
  cb.per_filter_config = off.get();
  RateLimitFilter f(*listener);
  f.setDecoderFilterCallbacks(cb);
  EXPECT_EQ(f.decodeHeaders(cb.request, true), FilterHeadersStatus::Continue);
}

TEST_F(RedisFixture, RedisDownFollowsTheFailureMode) {
  auto allow = config(60, "minute", 0, "allow");
  auto deny = config(60, "minute", 0, "deny");
  server_.stop();
  auto& cb = cb_;
  for (auto* cfg : {allow.get(), deny.get()}) {
    newStream(cb, "erin");
    RateLimitFilter f(*cfg);
    StreamRun run = runStream(f, cb);
    if (cfg == allow.get()) {
      EXPECT_EQ(run.local_status, std::nullopt);
      EXPECT_TRUE(run.status == FilterHeadersStatus::Continue || run.continues == 1);
    } else {
      EXPECT_EQ(run.local_status, 503);
      EXPECT_EQ(cb.streamInfo().details, "ratelimit_redis_error");
    }
    f.onDestroy();
  }
  EXPECT_EQ(allow->error->value(), 1);
  EXPECT_EQ(allow->failure_mode_allowed->value(), 1);
  EXPECT_EQ(deny->error->value(), 1);
  EXPECT_EQ(deny->failure_mode_allowed->value(), 0);
}

TEST_F(RedisFixture, TimeoutFollowsTheFailureModeAndDestroyCancels) {
  auto deny = config(60, "minute", 0, "deny");
  auto& cb = cb_;
  auto& client = redis::threadClient(cb.loop(), deny->spec.redis_address);
  ASSERT_TRUE(cb.runUntil([&] { return client.connected(); }));
  ASSERT_EQ(server_.command({"CLIENT", "PAUSE", "600"}), "+OK");
  {
    newStream(cb, "frank");
    RateLimitFilter f(*deny);
    StreamRun run = runStream(f, cb);  // the 200 ms timeout fires first
    EXPECT_EQ(run.local_status, 503);
    f.onDestroy();
  }
  newStream(cb, "grace");
  {
    RateLimitFilter f(*deny);
    f.setDecoderFilterCallbacks(cb);
    EXPECT_EQ(f.decodeHeaders(cb.request, true), FilterHeadersStatus::StopIteration);
    EXPECT_EQ(client.pendingCount(), 1u);
    f.onDestroy();  // the stream ends with its call in flight
    EXPECT_EQ(client.pendingCount(), 0u);
  }
  int turns = 0;
  cb.runUntil([&] { return ++turns > 100; });  // past the timeout and the pause
  EXPECT_EQ(cb.continues, 0);
  EXPECT_FALSE(cb.local_status.has_value());
  EXPECT_EQ(deny->error->value(), 1);
}

}  // namespace
}  // namespace sluice::filters::global_ratelimit
