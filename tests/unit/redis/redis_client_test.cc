// RedisClient against a real redis-server on loopback, driven by a real
// event::Loop: eval (EVAL then EVALSHA, NOSCRIPT fallback), calls queued
// while connecting, per-call timeout with the late reply dropped,
// cancellation, fail-fast while disconnected, reconnect after a restart,
// and destruction with calls in flight.
#include "proxy/redis/redis_client.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "proxy/stats/named_counters.h"
#include "tests/unit/redis/redis_server.h"

namespace sluice::redis {
namespace {

using namespace std::chrono_literals;
using Status = RedisResult::Status;

class Recorder final : public RedisRequest {
 public:
  int calls = 0;
  Status status = Status::Ok;
  long long integer = -1;
  std::string error;
  // Set: the loop whose turn time onReply records in replied_at.
  const event::Loop* clock = nullptr;
  event::MonoTime replied_at{};

 private:
  void onReply(const RedisResult& r) override {
    ++calls;
    if (clock) replied_at = clock->now();
    status = r.status;
    error = std::string(r.error);
    if (r.ok() && r.reply->type == REDIS_REPLY_INTEGER) integer = r.reply->integer;
  }
};

const LuaScript& plusOne() {
  static const LuaScript s("return tonumber(ARGV[1]) + 1");
  return s;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!::sluice::testing::RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
    ::signal(SIGPIPE, SIG_IGN);  // as the server does: hiredis writes with write(2)
    ASSERT_TRUE(server_.start()) << "redis-server did not start";
    address_ = *ip::Address::parse(server_.address());
  }

  // Runs the loop until `pred` holds or `timeout` passes.
  template <class P>
  bool runUntil(P pred, std::chrono::milliseconds timeout = 3000ms) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < until) {
      auto t = loop_.createTimer([this] { loop_.exit(); });
      t->enable(event::Duration(5));
      loop_.run();
    }
    return pred();
  }

  bool evalPlusOne(RedisClient& c, Recorder& r, int n, event::Duration timeout = event::Duration(1000)) {
    const std::string arg = std::to_string(n);
    const std::string_view args[] = {arg};
    return c.eval(r, plusOne(), {}, args, timeout);
  }

  event::Loop loop_;
  ::sluice::testing::RedisServer server_;
  ip::Address address_;
};

TEST_F(RedisClientTest, EvalRunsTheScriptThenBySha) {
  RedisClient client(loop_, address_);
  ASSERT_TRUE(runUntil([&] { return client.connected(); }));
  for (int i = 0; i < 3; ++i) {
    Recorder r;
    ASSERT_TRUE(evalPlusOne(client, r, 41 + i));
    EXPECT_TRUE(r.pending());
    ASSERT_TRUE(runUntil([&] { return r.calls == 1; }));
    EXPECT_EQ(r.status, Status::Ok) << r.error;
    EXPECT_EQ(r.integer, 42 + i);
    EXPECT_FALSE(r.pending());
  }
  // The first call loaded the script; later ones ran by SHA.
  EXPECT_EQ(server_.command({"SCRIPT", "EXISTS", std::string(plusOne().sha())}), "*1");
  EXPECT_EQ(client.pendingCount(), 0u);
}

TEST_F(RedisClientTest, NoScriptFailsOneCallThenEvalAgain) {
  RedisClient client(loop_, address_);
  Recorder first;
  ASSERT_TRUE(evalPlusOne(client, first, 1));
  ASSERT_TRUE(runUntil([&] { return first.calls == 1; }));
  ASSERT_EQ(first.status, Status::Ok);
  ASSERT_EQ(server_.command({"SCRIPT", "FLUSH"}), "+OK");
  Recorder flushed;
  ASSERT_TRUE(evalPlusOne(client, flushed, 2));
  ASSERT_TRUE(runUntil([&] { return flushed.calls == 1; }));
  EXPECT_EQ(flushed.status, Status::Error);
  EXPECT_NE(flushed.error.find("NOSCRIPT"), std::string::npos) << flushed.error;
  Recorder again;
  ASSERT_TRUE(evalPlusOne(client, again, 3));
  ASSERT_TRUE(runUntil([&] { return again.calls == 1; }));
  EXPECT_EQ(again.status, Status::Ok) << again.error;
  EXPECT_EQ(again.integer, 4);
}

TEST_F(RedisClientTest, CallsMadeWhileConnectingAreSentOnceConnected) {
  RedisClient client(loop_, address_);
  ASSERT_FALSE(client.connected());
  std::vector<Recorder> rs(20);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(evalPlusOne(client, rs[i], i));
  ASSERT_TRUE(runUntil([&] { return rs.back().calls == 1; }));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(rs[i].calls, 1);
    EXPECT_EQ(rs[i].integer, i + 1) << rs[i].error;
  }
}

TEST_F(RedisClientTest, TimeoutFiresAndTheLateReplyIsDropped) {
  RedisClient client(loop_, address_);
  ASSERT_TRUE(runUntil([&] { return client.connected(); }));
  const auto wall_start = std::chrono::steady_clock::now();
  ASSERT_EQ(server_.command({"CLIENT", "PAUSE", "400"}), "+OK");
  Recorder slow;
  slow.clock = &loop_;
  // A call's timeout counts from the loop's turn time, cached before the
  // blocking CLIENT PAUSE above: measure on that clock, not from a stopwatch
  // started later (which read 49.78 ms for a 50 ms timeout once under load).
  const event::MonoTime armed = loop_.now();
  ASSERT_TRUE(evalPlusOne(client, slow, 1, event::Duration(50)));
  ASSERT_TRUE(runUntil([&] { return slow.calls == 1; }));
  EXPECT_EQ(slow.status, Status::Timeout);
  EXPECT_GE(slow.replied_at - armed, 50ms) << "the timeout fired early";
  const auto wall = std::chrono::steady_clock::now() - wall_start;
  EXPECT_LT(wall, 350ms) << "the timeout waited for the paused server";
  // After the pause the server answers the timed-out call: nobody hears it,
  // and the connection goes on serving.
  Recorder next;
  ASSERT_TRUE(evalPlusOne(client, next, 7, event::Duration(2000)));
  ASSERT_TRUE(runUntil([&] { return next.calls == 1; }));
  EXPECT_EQ(next.status, Status::Ok) << next.error;
  EXPECT_EQ(next.integer, 8);
  EXPECT_EQ(slow.calls, 1);
}

TEST_F(RedisClientTest, CancelledCallNeverCallsBack) {
  RedisClient client(loop_, address_);
  ASSERT_TRUE(runUntil([&] { return client.connected(); }));
  Recorder cancelled, witness;
  ASSERT_TRUE(evalPlusOne(client, cancelled, 1));
  {
    Recorder destroyed;  // destroying a pending request cancels it too
    ASSERT_TRUE(evalPlusOne(client, destroyed, 2));
  }
  cancelled.cancel();
  EXPECT_FALSE(cancelled.pending());
  ASSERT_TRUE(evalPlusOne(client, witness, 3));
  ASSERT_TRUE(runUntil([&] { return witness.calls == 1; }));
  EXPECT_EQ(witness.integer, 4);
  EXPECT_EQ(cancelled.calls, 0);
  EXPECT_EQ(client.pendingCount(), 0u);
  // A cancelled request can be used again.
  ASSERT_TRUE(evalPlusOne(client, cancelled, 5));
  ASSERT_TRUE(runUntil([&] { return cancelled.calls == 1; }));
  EXPECT_EQ(cancelled.integer, 6);
}

TEST_F(RedisClientTest, FailsFastWhileDisconnectedAndReconnectsAfterRestart) {
  auto connects = stats::namedCounter("sluice_redis_connects_total", "", {{"address", address_.str()}});
  const int64_t connects_before = connects->value();
  RedisClient client(loop_, address_);
  ASSERT_TRUE(runUntil([&] { return client.connected(); }));
  EXPECT_EQ(connects->value(), connects_before + 1);

  ASSERT_EQ(server_.command({"CLIENT", "PAUSE", "2000"}), "+OK");
  Recorder in_flight;
  ASSERT_TRUE(evalPlusOne(client, in_flight, 1, event::Duration(5000)));
  server_.stop();
  ASSERT_TRUE(runUntil([&] { return in_flight.calls == 1; }));
  EXPECT_EQ(in_flight.status, Status::Disconnected);
  EXPECT_FALSE(client.connected());

  // Waiting to reconnect (or reconnecting into a refused port): no call is taken.
  Recorder refused;
  bool refused_at_once = false;
  ASSERT_TRUE(runUntil([&] {
    if (evalPlusOne(client, refused, 1)) {
      runUntil([&] { return refused.calls == 1; });  // connecting: it fails when the connect does
      return false;
    }
    refused_at_once = true;
    return true;
  }));
  EXPECT_TRUE(refused_at_once);
  EXPECT_FALSE(refused.pending());

  ASSERT_TRUE(server_.start());
  ASSERT_TRUE(runUntil([&] { return client.connected(); }, 8000ms)) << "no reconnect after the restart";
  EXPECT_EQ(connects->value(), connects_before + 2);
  Recorder after;
  ASSERT_TRUE(evalPlusOne(client, after, 9));
  ASSERT_TRUE(runUntil([&] { return after.calls == 1; }));
  EXPECT_EQ(after.status, Status::Ok) << after.error;
  EXPECT_EQ(after.integer, 10);
}

TEST_F(RedisClientTest, DestroyingTheClientDetachesPendingCalls) {
  Recorder pending;
  {
    RedisClient client(loop_, address_);
    ASSERT_TRUE(runUntil([&] { return client.connected(); }));
    ASSERT_EQ(server_.command({"CLIENT", "PAUSE", "300"}), "+OK");
    ASSERT_TRUE(evalPlusOne(client, pending, 1));
    ASSERT_TRUE(pending.pending());
  }
  EXPECT_FALSE(pending.pending());
  int turns = 0;
  runUntil([&] { return ++turns > 20; });
  EXPECT_EQ(pending.calls, 0);
}

TEST_F(RedisClientTest, ConnectFailureFailsQueuedCallsThenFailsFast) {
  ::sluice::testing::RedisServer never_started;  // a free port nobody listens on: connects are refused
  RedisClient client(loop_, *ip::Address::parse(never_started.address()));
  // A call made while connecting is queued and fails with the connect; once
  // the client waits to reconnect, calls are refused at once.
  int queued = 0, refused = 0;
  ASSERT_TRUE(runUntil([&] {
    if (refused > 0) return true;
    Recorder r;
    if (!evalPlusOne(client, r, 1)) return ++refused > 0;
    ++queued;
    EXPECT_TRUE(runUntil([&] { return r.calls == 1; }));
    EXPECT_EQ(r.status, Status::Disconnected);
    return false;
  }));
  EXPECT_EQ(refused, 1);
  EXPECT_FALSE(client.connected());
}

}  // namespace
}  // namespace sluice::redis
