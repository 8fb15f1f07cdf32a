// The router over a fake HttpConnPool: a pool's typed reset reason reaches
// the retry decision. Each test plays the pool by hand (ready, fail, reset,
// respond) and asserts on what the client got and on whether another host
// was asked. Clusters come from YAML through the real loader; backoffs run on
// the real loop with a 1-2 ms window.
#include "filters/http/router/router.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/loader.h"
#include "proxy/stats/stats.h"
#include "tests/unit/http/fake_filter_callbacks.h"

namespace sluice::filters::router {
namespace {

using namespace std::chrono_literals;
using sluice::http::HeaderMap;
using sluice::http::ResponseFlag;
using upstream::StreamResetReason;

// One host's pool, played by the test: it holds at most one waiting request
// and one stream.
class FakePool final : public upstream::HttpConnPool,
                       public upstream::PendingStream,
                       public upstream::UpstreamStream,
                       public sluice::http::MessageEncoder {
 public:
  upstream::Protocol protocol() const override { return upstream::Protocol::Http1; }
  upstream::PendingStream* newStream(sluice::http::MessageDecoder& response, upstream::StreamCallbacks& stream_callbacks,
                                     upstream::PoolCallbacks& callbacks, upstream::RoutingPriority) override {
    waiting_ = Waiting{&response, &stream_callbacks, &callbacks};
    ++asked;
    return this;
  }
  void update(const upstream::Host&, const upstream::PoolSettings&, stats::ClusterStats*) override {}
  void cancel() override { waiting_.reset(); }

  // UpstreamStream, and its encoder.
  sluice::http::MessageEncoder& encoder() override { return *this; }
  void readDisable(bool) override {}
  void release() override { ++released; }
  void reset() override { ++resets; }
  void encodeHeaders(const HeaderMap&, bool) override { ++requests_sent; }
  void encodeData(net::Buffer& data, bool) override { data.drain(data.length()); }
  void encodeTrailers(const HeaderMap&) override {}

  bool waiting() const { return waiting_.has_value(); }
  void ready() {
    const Waiting w = take();
    stream_callbacks_ = w.stream_callbacks;
    response_ = w.response;
    w.callbacks->onPoolReady(*this);
  }
  void failPool(StreamResetReason reason) {
    take().callbacks->onPoolFailure(reason, upstream::resetReasonName(reason));
  }
  void resetStream(StreamResetReason reason) {
    stream_callbacks_->onStreamReset(reason, upstream::resetReasonName(reason));
  }
  void respond(int status) {
    HeaderMap h;
    h.setStatus(status);
    response_->decodeHeaders(h, true);
  }

  int asked = 0;
  int requests_sent = 0;
  int released = 0;
  int resets = 0;

 private:
  struct Waiting {
    sluice::http::MessageDecoder* response;
    upstream::StreamCallbacks* stream_callbacks;
    upstream::PoolCallbacks* callbacks;
  };
  Waiting take() {
    EXPECT_TRUE(waiting_);
    const Waiting w = *waiting_;
    waiting_.reset();
    return w;
  }
  std::optional<Waiting> waiting_;
  upstream::StreamCallbacks* stream_callbacks_ = nullptr;
  sluice::http::MessageDecoder* response_ = nullptr;
};

// The stream the router runs in: a route to cluster "c" (two hosts, each
// behind a FakePool) with the retry policy under test.
class RouterTest : public ::testing::Test, public sluice::http::testing::FakeDecoderCallbacks {
 protected:
  RouterTest() {
    const config::LoadResult r = config::loadString(
        "clusters:\n  - name: c\n    endpoints:\n      - {address: 127.0.0.1:1001}\n"
        "      - {address: 127.0.0.1:1002}\n",
        "t.yaml");
    EXPECT_TRUE(r.errors.empty()) << r.errorText();
    upstream::ClusterStatsRefs refs;
    refs.cluster = &store_.cluster("c");
    refs.shared = &shared_;
    for (const auto& ep : r.config->endpointsOf(r.config->clusters.at(0))) {
      refs.hosts.push_back(&store_.host("c", ep.address.str()));
      refs.host_shared.push_back(&shared_.host(ep.address.str()));
    }
    manager_.setLoop(loop());
    manager_.setPoolFactory([this](upstream::Protocol, event::Loop&, const upstream::Host& host,
                                   const upstream::PoolSettings&, stats::ClusterStats*) {
      auto pool = std::make_unique<FakePool>();
      pools_[host.name] = pool.get();
      return pool;
    });
    manager_.update(r.config, {{"c", refs}});
    route_.route.emplace();
    route_.route->cluster = "c";
  }

  // Sends a GET through a router whose route retries once on `retry_on`.
  void send(uint32_t retry_on) {
    sluice::http::RetryPolicy policy;
    policy.retry_on = retry_on;
    policy.num_retries = 1;
    policy.base_interval = 1ms;
    policy.max_interval = 2ms;
    route_.route->retry_policy = policy;
    request.set(":method", "GET");
    request.set(":path", "/");
    request.set(":authority", "example");
    router_ = std::make_unique<RouterFilter>();
    router_->setDecoderFilterCallbacks(*this);
    router_->decodeHeaders(request, true);
  }
  // The pool with a request waiting (null: none).
  FakePool* asked() {
    for (auto& [name, pool] : pools_)
      if (pool->waiting()) return pool;
    return nullptr;
  }
  int totalAsked() {
    int n = 0;
    for (auto& [name, pool] : pools_) n += pool->asked;
    return n;
  }
  stats::ClusterStats& clusterStats() { return store_.cluster("c").worker(0); }

  const sluice::http::Route* route() override { return &route_; }
  upstream::ClusterManager& clusters() override { return manager_; }
  void encodeHeaders(HeaderMap& headers, bool) override { response_status = headers.status(); }

  void TearDown() override {
    if (router_) router_->onDestroy();
    router_.reset();
  }

  std::optional<int> response_status;  // what the upstream's response forwarded downstream said

 private:
  stats::StatsStore store_{1};
  upstream::ClusterShared shared_;
  std::map<std::string, FakePool*> pools_;
  upstream::ClusterManager manager_{0};
  sluice::http::Route route_;
  std::unique_ptr<RouterFilter> router_;
};

TEST_F(RouterTest, ARefusedStreamIsRetriedUnderRefusedStream) {
  send(sluice::http::kRetryOnRefusedStream);
  FakePool* first = asked();
  ASSERT_NE(first, nullptr);
  first->ready();
  EXPECT_EQ(first->requests_sent, 1);
  first->resetStream(StreamResetReason::RefusedStream);
  ASSERT_TRUE(runUntil([&] { return asked() != nullptr; })) << "no retry";
  FakePool* second = asked();
  EXPECT_NE(second, first) << "a retry goes to a host not tried yet";
  second->ready();
  second->respond(200);
  EXPECT_EQ(response_status, 200);
  EXPECT_FALSE(local_status);
  EXPECT_EQ(second->released, 1);
  EXPECT_EQ(clusterStats().upstream_rq_retry.value(), 1);
  EXPECT_EQ(clusterStats().upstream_rq_reset.value(), 1);
}

TEST_F(RouterTest, ARefusedStreamIsNotRetriedUnderConnectFailure) {
  send(sluice::http::kRetryOnConnectFailure);
  FakePool* first = asked();
  ASSERT_NE(first, nullptr);
  first->ready();
  first->resetStream(StreamResetReason::RefusedStream);
  EXPECT_EQ(local_status, 502);
  EXPECT_TRUE(streamInfo().hasFlag(ResponseFlag::UpstreamConnectionTermination));
  EXPECT_EQ(streamInfo().details, "upstream_refused_stream");
  EXPECT_EQ(totalAsked(), 1);
  EXPECT_EQ(clusterStats().upstream_rq_retry.value(), 0);
}

TEST_F(RouterTest, AConnectFailureIsRetriedUnderConnectFailure) {
  send(sluice::http::kRetryOnConnectFailure);
  FakePool* first = asked();
  ASSERT_NE(first, nullptr);
  first->failPool(StreamResetReason::ConnectFailure);
  ASSERT_TRUE(runUntil([&] { return asked() != nullptr; })) << "no retry";
  FakePool* second = asked();
  EXPECT_NE(second, first);
  second->ready();
  second->respond(204);
  EXPECT_EQ(response_status, 204);
  EXPECT_FALSE(local_status);
  EXPECT_EQ(clusterStats().upstream_rq_retry.value(), 1);
}

TEST_F(RouterTest, AConnectTimeoutIsNotRetriedUnderRefusedStream) {
  send(sluice::http::kRetryOnRefusedStream);
  FakePool* first = asked();
  ASSERT_NE(first, nullptr);
  first->failPool(StreamResetReason::ConnectTimeout);
  EXPECT_EQ(local_status, 503);
  EXPECT_TRUE(streamInfo().hasFlag(ResponseFlag::UpstreamConnectionFailure));
  EXPECT_EQ(streamInfo().details, "upstream_connect_timeout");
  EXPECT_EQ(totalAsked(), 1);
}

TEST_F(RouterTest, AProtocolErrorIsRetriedUnderResetAndCountedAsOne) {
  send(sluice::http::kRetryOnReset);
  FakePool* first = asked();
  ASSERT_NE(first, nullptr);
  first->ready();
  first->resetStream(StreamResetReason::ProtocolError);
  EXPECT_EQ(clusterStats().upstream_rq_protocol_error.value(), 1);
  EXPECT_EQ(clusterStats().upstream_rq_reset.value(), 0);
  ASSERT_TRUE(runUntil([&] { return asked() != nullptr; })) << "no retry";
  FakePool* second = asked();
  second->ready();
  second->respond(200);
  EXPECT_EQ(response_status, 200);
}

TEST_F(RouterTest, AnOverflowIsNeverRetried) {
  send(sluice::http::kRetryOn5xx | sluice::http::kRetryOnReset | sluice::http::kRetryOnConnectFailure |
       sluice::http::kRetryOnRefusedStream);
  FakePool* first = asked();
  ASSERT_NE(first, nullptr);
  first->failPool(StreamResetReason::Overflow);
  EXPECT_EQ(local_status, 503);
  EXPECT_TRUE(streamInfo().hasFlag(ResponseFlag::UpstreamOverflow));
  EXPECT_EQ(streamInfo().details, "upstream_pool_overflow");
  EXPECT_EQ(totalAsked(), 1);
}

}  // namespace
}  // namespace sluice::filters::router
