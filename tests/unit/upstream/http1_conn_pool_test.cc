// Http1ConnPool through the HttpConnPool interface, against loopback peers on
// the real loop: what each way of failing raises (a typed reason, never a
// string to parse), and that the reason is what the retry policy decides on.
// Waits end as soon as their condition holds, bounded by generous deadlines.
#include "proxy/upstream/http1_conn_pool.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "filters/http/router/retry_state.h"
#include "tests/unit/upstream/pool_requester.h"

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;
using filters::router::AttemptFailure;
using filters::router::attemptFailureOf;
using filters::router::RetryState;
using upstream::testing::Requester;

bool runUntil(event::Loop& loop, const std::function<bool()>& pred, event::Duration deadline = 10s) {
  std::unique_ptr<event::Timer> poll;
  poll = loop.createTimer([&] {
    if (pred())
      loop.exit();
    else
      poll->enable(event::Duration(2));
  });
  auto stop = loop.createTimer([&] { loop.exit(); });
  poll->enable(event::Duration(0));
  stop->enable(deadline);
  loop.run();
  return pred();
}

int bindLoopback() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  return fd;
}

ip::Address addressOf(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return *ip::Address::parse("127.0.0.1:" + std::to_string(ntohs(sa.sin_port)));
}

// Bound but not listening: every connect is refused.
struct RefusingPeer {
  RefusingPeer() : fd(bindLoopback()) {}
  ~RefusingPeer() { ::close(fd); }
  int fd;
};

// Accepts one connection on its own thread, reads the request head, answers
// `reply` (nothing when empty) and closes.
class OneShotPeer {
 public:
  explicit OneShotPeer(std::string reply) : fd_(bindLoopback()), reply_(std::move(reply)) {
    ::listen(fd_, 16);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotPeer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  ip::Address address() const { return addressOf(fd_); }

 private:
  void serve() {
    int c = -1;
    while (!stop_ && c < 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }
    if (c < 0) return;
    std::string got;
    char buf[1024];
    while (!stop_ && got.find("\r\n\r\n") == std::string::npos) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 10) == 0) continue;
      const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    if (!reply_.empty()) [[maybe_unused]]
      ssize_t n = ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    ::close(c);
  }

  int fd_;
  std::string reply_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// What the router would ask the retry policy after this failure.
std::optional<AttemptFailure> attemptFailure(const Requester& r) {
  if (r.failure) return attemptFailureOf(*r.failure);
  if (r.reset) return attemptFailureOf(*r.reset);
  return std::nullopt;
}

http::RetryPolicy policy(uint32_t on) {
  http::RetryPolicy p;
  p.retry_on = on;
  p.num_retries = 1;
  return p;
}

struct Http1ConnPoolTest : ::testing::Test {
  std::unique_ptr<HttpConnPool> makePool(const ip::Address& address, PoolSettings settings = {}) {
    Host host;
    host.address = address;
    host.name = address.str();
    return std::make_unique<Http1ConnPool>(loop, host, settings, nullptr);
  }
  event::Loop loop;
};

TEST_F(Http1ConnPoolTest, ARefusedConnectIsAConnectFailureThatConnectFailureRetries) {
  RefusingPeer peer;
  auto pool = makePool(addressOf(peer.fd));
  EXPECT_EQ(pool->protocol(), Protocol::Http1);
  Requester r;
  EXPECT_NE(pool->newStream(r, r, r, RoutingPriority::Normal), nullptr);
  ASSERT_TRUE(runUntil(loop, [&] { return r.ended(); }));
  ASSERT_EQ(r.failure, StreamResetReason::ConnectFailure);
  EXPECT_EQ(r.detail_seen, "upstream_connect_failure");

  // The reason, not a string, decides the retry: connect-failure retries it
  // (even a POST: the upstream never saw it), refused-stream does not.
  const auto connect = policy(http::kRetryOnConnectFailure);
  const auto refused = policy(http::kRetryOnRefusedStream);
  ASSERT_EQ(attemptFailure(r), AttemptFailure::ConnectFailure);
  EXPECT_TRUE(RetryState(connect, "POST").retriable(*attemptFailure(r), nullptr, false));
  EXPECT_FALSE(RetryState(refused, "GET").retriable(*attemptFailure(r), nullptr, false));
}

TEST_F(Http1ConnPoolTest, ACloseBeforeTheResponseIsAConnectionTermination) {
  OneShotPeer peer("");
  auto pool = makePool(peer.address());
  Requester r;
  pool->newStream(r, r, r, RoutingPriority::Normal);
  ASSERT_TRUE(runUntil(loop, [&] { return r.ended(); }));
  EXPECT_FALSE(r.failure);
  ASSERT_EQ(r.reset, StreamResetReason::ConnectionTermination);
  ASSERT_EQ(attemptFailure(r), AttemptFailure::Reset);
  EXPECT_TRUE(RetryState(policy(http::kRetryOnReset), "GET").retriable(*attemptFailure(r), nullptr, true));
  EXPECT_FALSE(RetryState(policy(http::kRetryOnConnectFailure), "GET").retriable(*attemptFailure(r), nullptr, true));
}

TEST_F(Http1ConnPoolTest, BytesThatAreNotHttpAreAProtocolError) {
  OneShotPeer peer("SSH-2.0-OpenSSH_9.0\r\n\r\n");
  auto pool = makePool(peer.address());
  Requester r;
  pool->newStream(r, r, r, RoutingPriority::Normal);
  ASSERT_TRUE(runUntil(loop, [&] { return r.ended(); }));
  ASSERT_EQ(r.reset, StreamResetReason::ProtocolError);
  EXPECT_EQ(attemptFailure(r), AttemptFailure::ProtocolError);
}

TEST_F(Http1ConnPoolTest, ACompleteResponseEndsTheStreamWithoutAReset) {
  OneShotPeer peer("HTTP/1.1 204 No Content\r\n\r\n");
  auto pool = makePool(peer.address());
  Requester r;
  pool->newStream(r, r, r, RoutingPriority::Normal);
  ASSERT_TRUE(runUntil(loop, [&] { return r.ended(); }));
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.reset);
  r.finish();
}

TEST_F(Http1ConnPoolTest, AFullQueueOverflowsAtOnceAndIsNeverRetried) {
  RefusingPeer peer;
  PoolSettings settings;
  settings.max_pending_requests = 0;
  auto pool = makePool(addressOf(peer.fd), settings);
  Requester r;
  EXPECT_EQ(pool->newStream(r, r, r, RoutingPriority::Normal), nullptr);  // answered inside the call
  ASSERT_EQ(r.failure, StreamResetReason::Overflow);
  EXPECT_EQ(r.detail_seen, "upstream_pool_overflow");
  EXPECT_FALSE(attemptFailure(r));
}

TEST_F(Http1ConnPoolTest, ACancelledRequestHearsNothing) {
  RefusingPeer peer;
  auto pool = makePool(addressOf(peer.fd));
  Requester cancelled, waiting;
  PendingStream* handle = pool->newStream(cancelled, cancelled, cancelled, RoutingPriority::Normal);
  ASSERT_NE(handle, nullptr);
  pool->newStream(waiting, waiting, waiting, RoutingPriority::Normal);
  handle->cancel();
  ASSERT_TRUE(runUntil(loop, [&] { return waiting.ended(); }));
  EXPECT_EQ(waiting.failure, StreamResetReason::ConnectFailure);
  EXPECT_FALSE(cancelled.ended());
}

}  // namespace
}  // namespace sluice::upstream
