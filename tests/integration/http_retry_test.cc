// Retries through the real binary: hiding random upstream failures, the
// retry budget bounding the load on a failing upstream, methods that must not
// be replayed, the per-try timeout moving a stuck request to another host
// and cutting every attempt (not only the first), body replay, x-sluice-attempt, Retry-After, and the shipped
// config/examples/retries.yaml. Checked on what clients saw, on what each
// upstream received, and on /metrics.

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/stream.h"
#include "tests/integration/support/test_server.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const Labels kC1{{"cluster", "c1"}};

std::string clusterC1(const std::string& endpoints, const std::string& extra = "") {
  return R"(
    - name: c1
      connect_timeout: 500ms
)" + extra + R"(
      endpoints: )" + endpoints;
}

// Requests each host got (health checks aside: these clusters have none).
uint64_t served(const ControlledUpstream& a, const ControlledUpstream& b) { return a.served() + b.served(); }

TEST(HttpRetry, ThirtyPercentRandomFailuresWithTwoRetriesLeaveAboutThreePercent) {
  ControlledUpstream a("a"), b("b");
  a.setFailPercent(30);
  b.setFailPercent(30);
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [5xx], num_retries: 2}}"}}),
      clusterC1(endpointsFlow({a.port(), b.port()}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // Two connections: at most two requests wait in a backoff at once, inside
  // the budget's floor of 3, so the budget never decides here.
  constexpr size_t kRequests = 800;
  const Tally t = sendRequests(port, kRequests, 2);
  // Three failures in a row: 0.3^3 = 2.7%, so about 22 of 800 (sd ~4.6).
  EXPECT_LE(t.errors(), 44u) << t.describe();
  EXPECT_EQ(t.errors(), t.count(503)) << t.describe();
  // Without retries about 240 would have failed: the retries did happen.
  const uint64_t upstream = served(a, b);
  EXPECT_GT(upstream, kRequests + 250) << "upstreams saw " << upstream;
  EXPECT_LT(upstream, kRequests * 3) << "upstreams saw " << upstream;
  const double retries = metricOr0(proxy, "sluice_cluster_upstream_rq_retry_total", kC1);
  EXPECT_EQ(static_cast<uint64_t>(retries), upstream - kRequests);
  EXPECT_GT(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_success_total", kC1), 150);
  EXPECT_GT(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_backoff_ms_total", kC1), 0);
  EXPECT_GT(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_limit_exceeded_total", kC1), 0);
}

TEST(HttpRetry, BudgetBoundsWhatAFullyFailingUpstreamReceives) {
  ControlledUpstream a("a"), b("b");
  a.setStatus(503);
  b.setStatus(503);
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [5xx], num_retries: 2}}"}}),
      clusterC1(endpointsFlow({a.port(), b.port()}),
                "      circuit_breakers: {retry_budget: {budget_percent: 20, min_retry_concurrency: 3}}\n")));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  constexpr size_t kRequests = 1500;
  const Tally t = sendRequests(port, kRequests, 32);
  EXPECT_EQ(t.count(503), kRequests) << t.describe();
  const uint64_t upstream = served(a, b);
  // num_retries alone would allow 3x; the budget keeps retries near 20% of
  // the requests in flight (and below, since a retry holds its slot through
  // its backoff).
  EXPECT_LE(upstream, kRequests * 125 / 100) << "upstreams saw " << upstream << " for " << kRequests;
  EXPECT_GT(upstream, kRequests) << "no retry happened at all";
  EXPECT_GT(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_overflow_total", kC1), 0);
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_total", kC1),
            static_cast<double>(upstream - kRequests));
}

TEST(HttpRetry, PostIsNotReplayedOnceTheUpstreamHadItButGetIs) {
  ControlledUpstream a("a");
  a.setDown(true);  // reads the request, then resets the connection
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(upstreamConfig(
      "access_log: {path: " + log + ", format: json}\n" +
          routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [reset, connect-failure], num_retries: 2, "
                               "retry_back_off: {base_interval: 1ms}}}"}}),
      clusterC1(endpointsFlow({a.port()}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  const CurlResult post = curl({"-X", "POST", "--data", "order=1", localUrl(port, "/orders")});
  EXPECT_EQ(post.status, 502) << post.describe();
  EXPECT_EQ(a.served(), 1u) << "a POST the upstream received was sent again";

  const CurlResult get = curl({localUrl(port, "/orders")});
  EXPECT_EQ(get.status, 502) << get.describe();
  EXPECT_EQ(a.served(), 1u + 3u) << "a GET is retried twice after a reset";
  const auto entry = waitJsonEntry(log, "method", "GET", 5s);
  ASSERT_TRUE(entry);
  EXPECT_EQ(field(*entry, "response_flags"), "UC,URX");
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_limit_exceeded_total", kC1), 1);
}

TEST(HttpRetry, PostIsRetriedWhenTheConnectionWasNeverMade) {
  DeadPort dead;
  ControlledUpstream b("b");
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [connect-failure], num_retries: 1}}"}}),
      clusterC1(weightedEndpoints({{dead.port(), 1, 0}, {b.port(), 1, 0}}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  for (int i = 0; i < 6; ++i) {
    const CurlResult r = curl({"-X", "POST", "--data", "n=" + std::to_string(i), localUrl(port, "/")});
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("x-upstream"), "b");
  }
  EXPECT_EQ(b.served(), 6u);
  EXPECT_GE(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_total", kC1), 1);
}

TEST(HttpRetry, ARetryGoesToAHostNotTriedYet) {
  // Random balancing would pick a failing host again about half the time;
  // two retries that skip tried hosts always reach c.
  ControlledUpstream a("a"), b("b"), c("c");
  a.setStatus(503);
  b.setStatus(503);
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [5xx], num_retries: 2, "
                           "retry_back_off: {base_interval: 1ms}}}"}}),
      clusterC1(endpointsFlow({a.port(), b.port(), c.port()}), "      lb_policy: random\n")));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const Tally t = sendRequests(port, 150, 2);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  EXPECT_EQ(t.to("c"), 150u) << t.describe();
  // Each request tried a and b at most once each.
  EXPECT_LE(a.served() + b.served(), 300u);
  EXPECT_GT(a.served() + b.served(), 100u);
}

TEST(HttpRetry, PerTryTimeoutMovesAStuckRequestToAnotherHost) {
  ControlledUpstream a("a"), b("b");
  a.hold();  // a takes requests and never answers (until released)
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/", "{cluster: c1, timeout: 5s, retry_policy: {retry_on: [5xx], num_retries: 1, "
                           "per_try_timeout: 300ms, retry_back_off: {base_interval: 1ms}}}"}}),
      clusterC1(endpointsFlow({a.port(), b.port()}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  int slow = 0;
  for (int i = 0; i < 4; ++i) {
    const CurlResult r = curl({localUrl(port, "/")});
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("x-upstream"), "b") << r.describe();
    EXPECT_LT(r.time_total, 2.0) << r.describe();
    if (r.time_total >= 0.29) ++slow;
  }
  // Round robin over two workers' balancers: a got some of the first tries.
  EXPECT_GE(a.served(), 1u);
  EXPECT_EQ(slow, static_cast<int>(a.served()));
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_per_try_timeout_total", kC1),
            static_cast<double>(a.served()));
  a.release();
}

TEST(HttpRetry, PerTryTimeoutCutsALaterAttemptToo) {
  // Both hosts answer by attempt number, so the sequence is the same whichever
  // host the balancer picks: attempt 1 a fast 503, attempt 2 stalls, attempt 3
  // succeeds. Only a per-try timeout on attempt 2 ends it before the route
  // timeout (4 s).
  std::mutex mu;
  std::map<std::string, Clock::time_point> arrived;  // "TARGET#ATTEMPT" -> when the upstream got it
  const HttpUpstream::Handler stall = neverAnswer();
  auto byAttempt = [&](const UpstreamRequest& req, UpstreamExchange& ex) {
    const std::string attempt = req.header("x-sluice-attempt").value_or("?");
    {
      std::lock_guard lk(mu);
      arrived[req.target + "#" + attempt] = Clock::now();
    }
    if (attempt == "1") {
      ex.respond(503, "busy\n");
    } else if (attempt == "2") {
      stall(req, ex);
    } else {
      ex.respond(200, "attempt " + attempt + "\n");
    }
  };
  HttpUpstream a(byAttempt), b(byAttempt);
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  auto route = [](int retries) {
    return "{cluster: c1, timeout: 4s, retry_policy: {retry_on: [5xx], num_retries: " + std::to_string(retries) +
           ", per_try_timeout: 300ms, retry_back_off: {base_interval: 1ms}}}";
  };
  ProxyProcess proxy(upstreamConfig(
      "access_log: {path: " + log + ", format: json}\n" +
          routeByPrefix({{"/recovers", route(2)}, {"/gives-up", route(1)}}),
      clusterC1(endpointsFlow({a.port(), b.port()}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  auto waited = [&](const std::string& target, const std::string& from, const std::string& to) -> long long {
    std::lock_guard lk(mu);
    const auto f = arrived.find(target + "#" + from), t = arrived.find(target + "#" + to);
    if (f == arrived.end() || t == arrived.end()) return -1;
    return std::chrono::duration_cast<Millis>(t->second - f->second).count();
  };

  // Three attempts: the stalled second one is cut at 300 ms and the third answers.
  const CurlResult ok = curl({localUrl(port, "/recovers")});
  EXPECT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(ok.body, "attempt 3\n") << ok.describe();
  EXPECT_GE(ok.time_total, 0.28) << ok.describe();
  EXPECT_LT(ok.time_total, 2.0) << "the stalled second attempt ran into the route timeout: " << ok.describe();
  const long long second_ran = waited("/recovers", "2", "3");
  EXPECT_GE(second_ran, 250) << "the second attempt was given up before its per-try timeout";
  EXPECT_LE(second_ran, 1500) << "the second attempt outlived its per-try timeout (300 ms)";
  EXPECT_LT(waited("/recovers", "1", "2"), 250) << "the fast 503 was not retried promptly";
  // The retry after the 503 went to the host not tried yet.
  auto hostOf = [&](const std::string& target, const std::string& attempt) {
    std::string hosts;
    for (const auto& [name, up] : {std::pair<const char*, HttpUpstream*>{"a", &a}, {"b", &b}}) {
      for (const auto& r : up->requests()) {
        if (r.target == target && r.header("x-sluice-attempt") == attempt) hosts += name;
      }
    }
    return hosts;
  };
  EXPECT_EQ(hostOf("/recovers", "1").size(), 1u);
  EXPECT_EQ(hostOf("/recovers", "2").size(), 1u);
  EXPECT_NE(hostOf("/recovers", "1"), hostOf("/recovers", "2"));

  // One retry only: the stalled second attempt is the last, and its timeout is the answer.
  const CurlResult timed_out = curl({localUrl(port, "/gives-up")});
  EXPECT_EQ(timed_out.status, 504) << timed_out.describe();
  EXPECT_GE(timed_out.time_total, 0.28) << timed_out.describe();
  EXPECT_LT(timed_out.time_total, 2.0) << timed_out.describe();
  const auto entry = waitJsonEntry(log, "path", "/gives-up", 5s);
  ASSERT_TRUE(entry) << readFile(log);
  EXPECT_EQ(field(*entry, "response_flags"), "URX,UPT") << entry->dump();

  EXPECT_EQ(a.requestCount() + b.requestCount(), 5u);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_per_try_timeout_total", kC1, 2));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_retry_total", kC1, 3));
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_timeout_total", kC1), 0) << "the route timeout fired";
}

TEST(HttpRetry, BodyIsReplayedWithTheAttemptNumberAndALongOneIsNotRetried) {
  ControlledUpstream a("a");
  a.setStatus(503);
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [gateway-error], num_retries: 2, "
                           "retry_back_off: {base_interval: 1ms}, max_request_body_bytes: 65536}}"}}),
      clusterC1(endpointsFlow({a.port()}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  const std::string body = patternBytes(7, 40000);
  const std::string path = proxy.dir() + "/body.bin";
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
  }
  const CurlResult put = curl({"-X", "PUT", "--data-binary", "@" + path, localUrl(port, "/doc")});
  EXPECT_EQ(put.status, 503) << put.describe();
  auto reqs = a.requests();
  ASSERT_EQ(reqs.size(), 3u);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].body_bytes, body.size());
    EXPECT_EQ(reqs[i].body_checksum, patternChecksum(7, body.size())) << "attempt " << i + 1;
    EXPECT_EQ(reqs[i].header("x-sluice-attempt"), std::to_string(i + 1));
  }

  // 100 KB is over max_request_body_bytes: the first failure is returned.
  const std::string big = patternBytes(8, 100000);
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(big.data(), 1, big.size(), f);
    std::fclose(f);
  }
  const CurlResult big_put = curl({"-X", "PUT", "--data-binary", "@" + path, localUrl(port, "/doc")});
  EXPECT_EQ(big_put.status, 503) << big_put.describe();
  reqs = a.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[3].body_bytes, big.size());
}

TEST(HttpRetry, RetryAfterWithinTheLimitReplacesTheBackoff) {
  std::atomic<int> calls{0};
  HttpUpstream up([&](const UpstreamRequest& req, UpstreamExchange& ex) {
    const int n = ++calls;
    if (n == 1) {
      ex.respond(503, "busy\n", {{"retry-after", req.target == "/long" ? "60" : "1"}});
    } else {
      ex.respond(200, "ok\n");
    }
  });
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [5xx], num_retries: 1, "
                           "retry_back_off: {base_interval: 10ms, max_interval: 2s}}}"}}),
      clusterC1(endpointsFlow({up.port()}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const CurlResult r = curl({localUrl(port, "/short")});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_GE(r.time_total, 0.95) << "Retry-After: 1 was not honoured";
  EXPECT_LT(r.time_total, 1.8);

  // Beyond max_interval: the computed backoff (at most 10 ms) is used instead.
  calls = 0;
  const CurlResult l = curl({localUrl(port, "/long")});
  EXPECT_EQ(l.status, 200) << l.describe();
  EXPECT_LT(l.time_total, 0.5);
}

TEST(HttpRetry, AClientLeavingDuringTheBackoffGivesEverythingBack) {
  HttpUpstream up(respondWith(503, "busy\n", {{"retry-after", "2"}}));
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [5xx], num_retries: 1, "
                           "retry_back_off: {base_interval: 10ms, max_interval: 5s}}}"}}),
      clusterC1(endpointsFlow({up.port()}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const Labels retries{{"cluster", "c1"}, {"priority", "normal"}, {"resource", "retries"}};
  const Labels requests{{"cluster", "c1"}, {"priority", "normal"}, {"resource", "requests"}};
  {
    RawHttpClient client(port);
    ASSERT_TRUE(client.send(getRequest("/wait")));
    ASSERT_TRUE(up.waitForRequests(1, 5s));
    // The retry waits 2 s (Retry-After) holding a budget slot.
    EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_circuit_breaker_active", retries, 1));
    // A reset, not a FIN: an HTTP/1 client may half-close and still wait for its response.
    setLingerZero(client.fd());
  }  // the client goes away
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_circuit_breaker_active", retries, 0));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_circuit_breaker_active", requests, 0));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_active", kC1, 0));
  std::this_thread::sleep_for(2200ms);
  EXPECT_EQ(up.requestCount(), 1u) << "the retry ran after its client had left";
}

TEST(HttpRetry, VirtualHostPolicyIsTheDefaultAndARouteOverridesIt) {
  ControlledUpstream a("a");
  a.setStatus(503);
  const std::string http = R"(
      route_config:
        virtual_hosts:
          - name: all
            domains: ["*"]
            retry_policy: {retry_on: [5xx], num_retries: 2, retry_back_off: {base_interval: 1ms}}
            routes:
              - match: {prefix: /once}
                route: {cluster: c1, retry_policy: {retry_on: [5xx], num_retries: 1, retry_back_off: {base_interval: 1ms}}}
              - match: {prefix: /}
                route: {cluster: c1}
  )";
  ProxyProcess proxy(upstreamConfig(http, clusterC1(endpointsFlow({a.port()}))));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  EXPECT_EQ(curl({localUrl(port, "/x")}).status, 503);
  EXPECT_EQ(a.served(), 3u);
  EXPECT_EQ(curl({localUrl(port, "/once")}).status, 503);
  EXPECT_EQ(a.served(), 5u);
}

// config/examples/retries.yaml with its ports swapped for free ones.
TEST(HttpRetryExample, ShippedRetriesExampleRetriesAndRateLimits) {
  ControlledUpstream b1("b1"), b2("b2");
  b2.setStatus(503);
  std::string yaml;
  ASSERT_TRUE(shippedExample("retries.yaml",
                             {{"address: 127.0.0.1:9901", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:10000", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:18091", "address: " + b1.address()},
                              {"address: 127.0.0.1:18092", "address: " + b2.address()}},
                             &yaml));
  ProxyProcess proxy(yaml);
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "edge"));

  // b2 answers 503 to everything: every request still succeeds through b1.
  const Tally t = sendRequests(port, 40, 2);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  EXPECT_EQ(t.to("b1"), 40u) << t.describe();
  EXPECT_GT(b2.served(), 0u);
  b2.setStatus(200);

  // /limited (no retry policy): 10 tokens refilled at 10 per second, then 429. A burst of 30
  // may straddle one refill, so 10 to 20 get through.
  const Tally burst = sendRequests(port, 30, 6, "/limited");
  EXPECT_GE(burst.count(200), 10u) << burst.describe();
  EXPECT_LE(burst.count(200), 20u) << burst.describe();
  EXPECT_EQ(burst.count(200) + burst.count(429), 30u) << burst.describe();
  const CurlResult r = curl({localUrl(port, "/limited")});
  if (r.status == 429) {
    EXPECT_TRUE(r.header("retry-after")) << r.describe();
    EXPECT_TRUE(r.header("x-ratelimit-limit")) << r.describe();
  }
}

}  // namespace
}  // namespace sluice::itest
