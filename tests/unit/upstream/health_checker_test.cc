// HealthChecker against real loopback servers on the real loop. Waits are
// bounded by generous deadlines and end as soon as their condition holds, so
// a slow machine makes a test slower, never wrong.
#include "proxy/upstream/health_checker.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;
using event::Duration;
using event::Loop;

// Runs the loop until pred() holds or `deadline` passes; returns pred().
bool runUntil(Loop& loop, const std::function<bool()>& pred, Duration deadline = 10s) {
  std::unique_ptr<event::Timer> poll;
  poll = loop.createTimer([&] {
    if (pred())
      loop.exit();
    else
      poll->enable(Duration(2));
  });
  auto stop = loop.createTimer([&] { loop.exit(); });
  poll->enable(Duration(0));
  stop->enable(deadline);
  loop.run();
  return pred();
}

// Runs the loop for `d` of wall time.
void runFor(Loop& loop, Duration d) {
  const auto until = std::chrono::steady_clock::now() + d;
  runUntil(loop, [&] { return std::chrono::steady_clock::now() >= until; }, d + 10s);
}

ip::Address loopback(uint16_t port) { return *ip::Address::parse("127.0.0.1:" + std::to_string(port)); }

uint16_t boundPort(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

// A bound TCP socket on 127.0.0.1 (port 0 = any); -1 if the port is taken.
int bindLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Bound but not listening: every connect to it is refused (RST), and the
// port stays reserved for the test's life.
struct RefusingPort {
  RefusingPort() : fd(bindLoopback(0)) {}
  ~RefusingPort() { ::close(fd); }
  ip::Address address() const { return loopback(boundPort(fd)); }
  int fd;
};

// Listening but never accepting: connects complete from the backlog and no
// byte ever comes back.
struct SilentPort {
  SilentPort() : fd(bindLoopback(0)) { ::listen(fd, 128); }
  ~SilentPort() { ::close(fd); }
  ip::Address address() const { return loopback(boundPort(fd)); }
  int fd;
};

// A blocking server on its own thread. Per connection: reads until `until`
// has arrived (nothing when empty), records what it read, writes the
// current reply and closes.
class TestServer {
 public:
  TestServer(std::string until, std::string reply, uint16_t port = 0) : until_(std::move(until)), reply_(std::move(reply)) {
    // A restart reuses a port the checker may still be probing; retry briefly.
    for (int i = 0; i < 500 && listen_fd_ < 0; ++i) {
      listen_fd_ = bindLoopback(port);
      if (listen_fd_ < 0) std::this_thread::sleep_for(10ms);
    }
    EXPECT_GE(listen_fd_, 0);
    ::listen(listen_fd_, 128);
    port_ = boundPort(listen_fd_);
    thread_ = std::thread([this] { serve(); });
  }
  ~TestServer() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  ip::Address address() const { return loopback(port_); }
  void setReply(std::string reply) {
    std::lock_guard<std::mutex> lock(mu_);
    reply_ = std::move(reply);
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string got;
      char buf[1024];
      while (!stop_ && !until_.empty() && got.find(until_) == std::string::npos) {
        // Short waits, so stop() never hangs on a client that sends nothing.
        pollfd c{fd, POLLIN, 0};
        if (::poll(&c, 1, 10) == 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      std::string reply;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(got);
        reply = reply_;
      }
      if (!reply.empty()) [[maybe_unused]] ssize_t n = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(fd);
    }
  }

  const std::string until_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string reply_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// Returns the scripted values in order, then `fallback` forever.
class ScriptedRandom : public util::RandomSource {
 public:
  explicit ScriptedRandom(std::deque<uint64_t> values = {}, uint64_t fallback = 0)
      : values_(std::move(values)), fallback_(fallback) {}
  uint64_t next() override {
    if (values_.empty()) return fallback_;
    const uint64_t v = values_.front();
    values_.pop_front();
    return v;
  }

 private:
  std::deque<uint64_t> values_;
  uint64_t fallback_;
};

constexpr const char* kOk = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
constexpr const char* kUnavailable = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";

config::HealthCheckConfig httpConfig() {
  config::HealthCheckConfig cfg;
  cfg.interval = 20ms;
  cfg.no_traffic_interval = 20ms;
  cfg.timeout = 5s;  // only the timeout test relies on it firing
  cfg.healthy_threshold = 2;
  cfg.unhealthy_threshold = 3;
  cfg.http.emplace();
  return cfg;
}

config::HealthCheckConfig tcpConfig(std::string send, std::string expect) {
  config::HealthCheckConfig cfg = httpConfig();
  cfg.http.reset();
  cfg.tcp.emplace();
  cfg.tcp->send = std::move(send);
  cfg.tcp->expect = std::move(expect);
  return cfg;
}

struct Flip {
  size_t host;
  bool healthy;
  HealthChecker::Counters at;  // the host's counters when it flipped
  bool operator==(const Flip& o) const { return host == o.host && healthy == o.healthy; }
};

class HealthCheckerTest : public ::testing::Test {
 protected:
  void make(const config::HealthCheckConfig& cfg, std::vector<ip::Address> hosts,
            HealthChecker::HadTraffic had_traffic = nullptr) {
    checker_ = std::make_unique<HealthChecker>(
        loop_, cfg, "my-cluster", std::move(hosts), nullptr, random_,
        [this](size_t host, bool healthy) { flips_.push_back({host, healthy, checker_->counters(host)}); },
        std::move(had_traffic));
    checker_->start();
  }
  const HealthChecker::Counters& counters(size_t host) const { return checker_->counters(host); }

  Loop loop_;
  ScriptedRandom random_;
  std::vector<Flip> flips_;
  std::unique_ptr<HealthChecker> checker_;
};

TEST_F(HealthCheckerTest, Http200StaysHealthy) {
  TestServer server("\r\n\r\n", kOk);
  make(httpConfig(), {server.address()});
  EXPECT_TRUE(checker_->healthy(0));
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 5; }));
  EXPECT_TRUE(checker_->healthy(0));
  EXPECT_EQ(counters(0).failures, 0u);
  EXPECT_GE(counters(0).attempts, 5u);
  EXPECT_TRUE(flips_.empty());
}

TEST_F(HealthCheckerTest, FirstCheckFailureMarksUnhealthyAtOnce) {
  TestServer server("\r\n\r\n", kUnavailable);
  make(httpConfig(), {server.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).failures >= 4; }));
  EXPECT_FALSE(checker_->healthy(0));
  ASSERT_EQ(flips_.size(), 1u);  // and no further flips while it keeps failing
  EXPECT_EQ(flips_[0], (Flip{0, false, {}}));
  EXPECT_EQ(flips_[0].at.failures, 1u);
  EXPECT_EQ(counters(0).successes, 0u);
}

TEST_F(HealthCheckerTest, HealthyHostNeedsUnhealthyThresholdFailuresThenHealthyThresholdPasses) {
  TestServer server("\r\n\r\n", kOk);
  make(httpConfig(), {server.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 2; }));
  server.setReply(kUnavailable);
  ASSERT_TRUE(runUntil(loop_, [&] { return !checker_->healthy(0); }));
  ASSERT_EQ(flips_.size(), 1u);
  EXPECT_EQ(flips_[0], (Flip{0, false, {}}));
  EXPECT_EQ(flips_[0].at.failures, 3u);  // unhealthy_threshold, all after the switch

  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).failures >= 5; }));
  const uint64_t successes_before = counters(0).successes;
  server.setReply(kOk);
  ASSERT_TRUE(runUntil(loop_, [&] { return checker_->healthy(0); }));
  ASSERT_EQ(flips_.size(), 2u);
  EXPECT_EQ(flips_[1], (Flip{0, true, {}}));
  EXPECT_EQ(flips_[1].at.successes - successes_before, 2u);  // healthy_threshold
}

TEST_F(HealthCheckerTest, ExpectedStatusRanges) {
  TestServer teapot("\r\n\r\n", "HTTP/1.1 429 Too Many Requests\r\n\r\n");
  TestServer no_content("\r\n\r\n", "HTTP/1.0 204 No Content\r\n\r\n");
  // The reason phrase may be empty (its SP is not: the codec answers a
  // request over such a status line with 502, so the check fails it too).
  TestServer exact("\r\n\r\n", "HTTP/1.1 200 \r\n\r\n");
  auto cfg = httpConfig();
  cfg.http->expected_statuses = {{200, 200}, {418, 429}};
  make(cfg, {teapot.address(), no_content.address(), exact.address()});
  ASSERT_TRUE(runUntil(loop_, [&] {
    return counters(0).successes >= 3 && counters(1).failures >= 3 && counters(2).successes >= 3;
  }));
  EXPECT_TRUE(checker_->healthy(0));
  EXPECT_FALSE(checker_->healthy(1));
  EXPECT_TRUE(checker_->healthy(2));
  EXPECT_EQ(counters(0).failures, 0u);
  EXPECT_EQ(counters(1).successes, 0u);
  EXPECT_EQ(counters(2).failures, 0u);
  EXPECT_EQ(flips_, (std::vector<Flip>{{1, false, {}}}));
}

TEST_F(HealthCheckerTest, MalformedOrMissingStatusLineFails) {
  TestServer http2("\r\n\r\n", "HTTP/2 200\r\n\r\n");
  TestServer garbage("\r\n\r\n", "200 OK\r\n\r\n");
  TestServer short_status("\r\n\r\n", "HTTP/1.1 20\r\n\r\n");
  TestServer long_status("\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n");
  TestServer no_line_end("\r\n\r\n", "HTTP/1.1 200 OK");  // then FIN
  TestServer closes("\r\n\r\n", "");
  make(httpConfig(), {http2.address(), garbage.address(), short_status.address(), long_status.address(),
                      no_line_end.address(), closes.address()});
  ASSERT_TRUE(runUntil(loop_, [&] {
    for (size_t i = 0; i < 6; ++i)
      if (counters(i).failures < 2) return false;
    return true;
  }));
  for (size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    EXPECT_FALSE(checker_->healthy(i));
    EXPECT_EQ(counters(i).successes, 0u);
    EXPECT_EQ(counters(i).timeouts, 0u);
  }
}

// The reply goes through the HTTP/1 client codec: interim responses are
// skipped, the verdict comes with the final response's header block (the
// body is not awaited), and a header block past the codec's limit fails.
TEST_F(HealthCheckerTest, HttpReplyIsParsedByTheClientCodec) {
  TestServer interim("\r\n\r\n", std::string("HTTP/1.1 100 Continue\r\n\r\n") + kOk);
  TestServer interim_then_503("\r\n\r\n", std::string("HTTP/1.1 102 Processing\r\n\r\n") + kUnavailable);
  TestServer short_body("\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nnot all of it");
  TestServer headers_only("\r\n\r\n", "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
  TestServer huge_headers("\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'x') + "\r\n\r\n");
  TestServer bad_framing("\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  make(httpConfig(), {interim.address(), interim_then_503.address(), short_body.address(), headers_only.address(),
                      huge_headers.address(), bad_framing.address()});
  ASSERT_TRUE(runUntil(loop_, [&] {
    return counters(0).successes >= 2 && counters(1).failures >= 2 && counters(2).successes >= 2 &&
           counters(3).successes >= 2 && counters(4).failures >= 2 && counters(5).failures >= 2;
  }));
  EXPECT_TRUE(checker_->healthy(0));
  EXPECT_FALSE(checker_->healthy(1));
  EXPECT_TRUE(checker_->healthy(2));
  EXPECT_TRUE(checker_->healthy(3));
  EXPECT_FALSE(checker_->healthy(4));
  EXPECT_FALSE(checker_->healthy(5));
  for (size_t i : {0, 2, 3}) EXPECT_EQ(counters(i).failures, 0u) << i;
  for (size_t i : {1, 4, 5}) EXPECT_EQ(counters(i).successes, 0u) << i;
}

TEST_F(HealthCheckerTest, RefusedConnectionFailsImmediately) {
  RefusingPort refused;
  auto cfg = httpConfig();
  cfg.timeout = 60s;  // a pass within the deadline proves no timeout was involved
  make(cfg, {refused.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).failures >= 3; }, 30s));
  EXPECT_FALSE(checker_->healthy(0));
  EXPECT_EQ(counters(0).timeouts, 0u);
  EXPECT_EQ(flips_, (std::vector<Flip>{{0, false, {}}}));
}

TEST_F(HealthCheckerTest, SilentServerTimesOut) {
  SilentPort silent;
  auto cfg = httpConfig();
  cfg.timeout = 50ms;
  make(cfg, {silent.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).timeouts >= 2; }));
  EXPECT_FALSE(checker_->healthy(0));
  EXPECT_EQ(counters(0).failures, counters(0).timeouts);
  EXPECT_EQ(counters(0).successes, 0u);
  // One check in flight at most: every attempt but the current one has ended.
  EXPECT_LE(counters(0).attempts, counters(0).failures + 1);
}

TEST_F(HealthCheckerTest, KilledThenRestartedServer) {
  auto server = std::make_unique<TestServer>("\r\n\r\n", kOk);
  const uint16_t port = server->port();
  make(httpConfig(), {server->address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 2; }));
  EXPECT_TRUE(checker_->healthy(0));

  server.reset();
  ASSERT_TRUE(runUntil(loop_, [&] { return !checker_->healthy(0); }));
  EXPECT_EQ(flips_.size(), 1u);
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).failures >= 5; }));
  EXPECT_FALSE(checker_->healthy(0));

  const uint64_t successes_before = counters(0).successes;
  server = std::make_unique<TestServer>("\r\n\r\n", kOk, port);
  ASSERT_TRUE(runUntil(loop_, [&] { return checker_->healthy(0); }));
  EXPECT_EQ(flips_, (std::vector<Flip>{{0, false, {}}, {0, true, {}}}));
  EXPECT_EQ(flips_[1].at.successes - successes_before, 2u);
}

TEST_F(HealthCheckerTest, TcpSendExpect) {
  TestServer pong("PING\r\n", "PONG\r\n");
  TestServer pang("PING\r\n", "PANG\r\n");
  make(tcpConfig("PING\r\n", "PONG"), {pong.address(), pang.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 3 && counters(1).failures >= 3; }));
  EXPECT_TRUE(checker_->healthy(0));
  EXPECT_FALSE(checker_->healthy(1));
  EXPECT_EQ(counters(0).failures, 0u);
  EXPECT_EQ(counters(1).successes, 0u);
  for (const std::string& req : pong.requests()) EXPECT_EQ(req, "PING\r\n");
}

TEST_F(HealthCheckerTest, TcpExpectAcrossSegmentsAndCap) {
  // The expected bytes arrive after a long preamble: the match spans reads.
  TestServer late("PING\r\n", std::string(10000, 'x') + "PONG");
  // A reply that never matches is cut off at the cap, not waited on.
  TestServer flood("PING\r\n", std::string(200 * 1024, 'x'));
  auto cfg = tcpConfig("PING\r\n", "PONG");
  make(cfg, {late.address(), flood.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 2 && counters(1).failures >= 2; }));
  EXPECT_TRUE(checker_->healthy(0));
  EXPECT_FALSE(checker_->healthy(1));
  EXPECT_EQ(counters(1).timeouts, 0u);
}

// Nothing awaited: connecting passes, and `send` still reaches the host
// before the probe's connection closes.
TEST_F(HealthCheckerTest, TcpSendWithoutExpect) {
  TestServer sink("PING\r\n", "");
  make(tcpConfig("PING\r\n", ""), {sink.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 3 && sink.requests().size() >= 3; }));
  EXPECT_EQ(counters(0).failures, 0u);
  for (const std::string& req : sink.requests()) EXPECT_EQ(req, "PING\r\n");
}

TEST_F(HealthCheckerTest, TcpConnectOnly) {
  TestServer listener("", "");
  RefusingPort refused;
  make(tcpConfig("", ""), {listener.address(), refused.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 3 && counters(1).failures >= 3; }));
  EXPECT_TRUE(checker_->healthy(0));
  EXPECT_FALSE(checker_->healthy(1));
  EXPECT_EQ(counters(0).failures, 0u);
  EXPECT_EQ(flips_, (std::vector<Flip>{{1, false, {}}}));
}

TEST_F(HealthCheckerTest, HostHeaderAndPath) {
  TestServer configured("\r\n\r\n", kOk);
  TestServer defaulted("\r\n\r\n", kOk);
  auto cfg = httpConfig();
  cfg.http->path = "/ready?full=1";
  cfg.http->host = "hc.example";
  make(cfg, {configured.address()});
  HealthChecker other(loop_, httpConfig(), "my-cluster", {defaulted.address()}, nullptr, random_, nullptr, nullptr);
  other.start();
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 1 && other.counters(0).successes >= 1; }));
  ASSERT_FALSE(configured.requests().empty());
  EXPECT_EQ(configured.requests()[0],
            "GET /ready?full=1 HTTP/1.1\r\nhost: hc.example\r\nuser-agent: sluice-health-check\r\n\r\n");
  ASSERT_FALSE(defaulted.requests().empty());
  EXPECT_EQ(defaulted.requests()[0],
            "GET /healthz HTTP/1.1\r\nhost: my-cluster\r\nuser-agent: sluice-health-check\r\n\r\n");
}

TEST_F(HealthCheckerTest, NoTrafficIntervalOnlyForHealthyHosts) {
  TestServer server("\r\n\r\n", kOk);
  RefusingPort refused;
  auto cfg = httpConfig();
  cfg.no_traffic_interval = std::chrono::hours(1);
  std::vector<size_t> asked;
  make(cfg, {server.address(), refused.address()}, [&](size_t host) {
    asked.push_back(host);
    return false;
  });
  // The unhealthy host keeps its short interval; the idle healthy one waits.
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(1).attempts >= 5 && counters(0).successes >= 1; }));
  EXPECT_EQ(counters(0).attempts, 1u);
  EXPECT_NE(std::find(asked.begin(), asked.end(), 0u), asked.end());
  EXPECT_TRUE(checker_->healthy(0));
  EXPECT_FALSE(checker_->healthy(1));
}

TEST_F(HealthCheckerTest, HadTrafficKeepsTheShortInterval) {
  TestServer server("\r\n\r\n", kOk);
  auto cfg = httpConfig();
  cfg.no_traffic_interval = std::chrono::hours(1);
  make(cfg, {server.address()}, [](size_t) { return true; });
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 3; }));
}

TEST_F(HealthCheckerTest, FirstCheckAtRandomOffsetWithinInterval) {
  TestServer server("\r\n\r\n", kOk);
  auto cfg = httpConfig();
  cfg.interval = 1000ms;
  ScriptedRandom random({1600});  // below(interval) -> 1600 % 1000
  HealthChecker checker(loop_, cfg, "c", {server.address()}, nullptr, random, nullptr, nullptr);
  ASSERT_EQ(loop_.timers().size(), 0u);
  checker.start();
  ASSERT_EQ(loop_.timers().size(), 1u);
  EXPECT_EQ(*loop_.timers().nextDeadline(), loop_.now() + 600ms);
}

TEST_F(HealthCheckerTest, FirstChecksAreSpreadOverTheInterval) {
  TestServer server("\r\n\r\n", kOk);
  auto cfg = httpConfig();
  cfg.interval = 1000ms;
  cfg.no_traffic_interval = 1000ms;
  random_ = ScriptedRandom({0, 600});
  const auto started = loop_.now();  // the time start() schedules from
  make(cfg, {server.address(), server.address()});
  std::optional<event::MonoTime> first_seen[2];
  ASSERT_TRUE(runUntil(loop_, [&] {
    for (size_t i = 0; i < 2; ++i)
      if (!first_seen[i] && counters(i).attempts > 0) first_seen[i] = std::chrono::steady_clock::now();
    return first_seen[0] && first_seen[1];
  }));
  // Timers never fire early, so host 1 cannot have been probed before 600ms.
  EXPECT_GE(*first_seen[1] - started, 600ms);
  EXPECT_LE(*first_seen[0], *first_seen[1]);
}

TEST_F(HealthCheckerTest, JitterIsAddedToEachInterval) {
  TestServer server("\r\n\r\n", kOk);
  auto cfg = httpConfig();
  cfg.interval = 10s;  // the next check stays queued while the test looks
  cfg.jitter = 500ms;
  random_ = ScriptedRandom({0, 300});  // first check now; then jitter 300 % 501
  std::optional<event::MonoTime> finished_at;
  make(cfg, {server.address()}, [&](size_t) {
    finished_at = loop_.now();  // asked while the next check is scheduled
    return true;
  });
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).successes >= 1; }));
  ASSERT_TRUE(finished_at);
  // runUntil's own timers are gone: only the host's next check is queued.
  ASSERT_EQ(loop_.timers().size(), 1u);
  EXPECT_EQ(*loop_.timers().nextDeadline(), *finished_at + 10s + 300ms);
}

TEST_F(HealthCheckerTest, DestroyedWhileChecksAreInFlight) {
  SilentPort silent;
  TestServer server("\r\n\r\n", kOk);
  make(httpConfig(), {silent.address(), server.address(), silent.address()});
  // Destroy from a timer callback while the silent hosts' sockets are open
  // and registered with epoll.
  auto kill = loop_.createTimer([&] { checker_.reset(); });
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).attempts >= 1 && counters(1).successes >= 2; }));
  kill->enable(Duration(0));
  runUntil(loop_, [&] { return checker_ == nullptr; });
  ASSERT_EQ(checker_, nullptr);
  runFor(loop_, 100ms);  // stale events or timers would touch freed memory here
}

TEST_F(HealthCheckerTest, DestroyedFromItsOwnOnChange) {
  RefusingPort refused;
  SilentPort silent;
  bool called = false;
  checker_ = std::make_unique<HealthChecker>(
      loop_, httpConfig(), "c", std::vector<ip::Address>{refused.address(), silent.address()}, nullptr, random_,
      [&](size_t, bool) {
        called = true;
        checker_.reset();
      },
      nullptr);
  checker_->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return called; }));
  EXPECT_EQ(checker_, nullptr);
  runFor(loop_, 100ms);
}

TEST_F(HealthCheckerTest, DestroyedOutsideTheLoopMidCheck) {
  SilentPort silent;
  make(httpConfig(), {silent.address()});
  ASSERT_TRUE(runUntil(loop_, [&] { return counters(0).attempts >= 1; }));
  checker_.reset();
  runFor(loop_, 50ms);
}

}  // namespace
}  // namespace sluice::upstream
