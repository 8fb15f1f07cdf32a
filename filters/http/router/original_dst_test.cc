// The router's host for an original_dst cluster: the downstream
// connection's original destination; x-envoy-original-dst-host only where
// the cluster allows it (a bad value ignored and counted); a destination
// that is the listener's own socket refused. The downstream is a real
// accepted loopback connection (its local address is read from the kernel);
// pools are recording fakes, so nothing connects anywhere.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/loader.h"
#include "filters/http/router/router.h"
#include "proxy/net/connection.h"
#include "proxy/net/socket_util.h"
#include "proxy/net/transport_socket.h"
#include "proxy/stats/stats.h"
#include "tests/unit/http/fake_filter_callbacks.h"

namespace sluice::filters::router {
namespace {

// Records which hosts were asked for a stream; never answers.
class RecordingPool final : public upstream::HttpConnPool, public upstream::PendingStream {
 public:
  explicit RecordingPool(std::vector<std::string>& asked, std::string host) : asked_(asked), host_(std::move(host)) {}
  upstream::Protocol protocol() const override { return upstream::Protocol::Http1; }
  upstream::PendingStream* newStream(sluice::http::MessageDecoder&, upstream::StreamCallbacks&,
                                     upstream::PoolCallbacks&, upstream::RoutingPriority) override {
    asked_.push_back(host_);
    return this;
  }
  void update(const upstream::Host&, const upstream::PoolSettings&, stats::ClusterStats*) override {}
  void cancel() override {}

 private:
  std::vector<std::string>& asked_;
  std::string host_;
};

class OriginalDstRouteTest : public ::testing::Test, public sluice::http::testing::FakeDecoderCallbacks {
 protected:
  OriginalDstRouteTest() {
    const config::LoadResult r = config::loadString(
        "clusters:\n  - name: pass\n    type: original_dst\n"
        "  - name: by-header\n    type: original_dst\n    use_http_header: true\n",
        "t.yaml");
    EXPECT_TRUE(r.errors.empty()) << r.errorText();
    std::map<std::string, upstream::ClusterStatsRefs> refs;
    for (const auto& cc : r.config->clusters) {
      refs[cc.name].cluster = &store_.cluster(cc.name);
      refs[cc.name].shared = &shared_;
    }
    manager_.setLoop(loop());
    manager_.setPoolFactory([this](upstream::Protocol, event::Loop&, const upstream::Host& host,
                                   const upstream::PoolSettings&,
                                   stats::ClusterStats*) { return std::make_unique<RecordingPool>(asked, host.name); });
    manager_.update(r.config, refs);

    // A real accepted TCP connection on loopback, as a listener would have it.
    std::string error;
    listen_fd_ = net::listenSocket(*ip::Address::parse("127.0.0.1:0"), false, &error);
    EXPECT_GE(listen_fd_, 0) << error;
    const ip::Address at = net::localAddress(listen_fd_);
    client_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(client_fd_, at.sockAddr(), at.sockLen()), 0);
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    EXPECT_GE(fd, 0);
    downstream_ =
        net::Connection::accepted(loop(), fd, ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&peer), len),
                                  std::make_unique<net::RawTransport>());
    connection = downstream_.get();
    listener_address = at.str();
  }

  ~OriginalDstRouteTest() override {
    if (router_) router_->onDestroy();
    router_.reset();
    downstream_->close(net::CloseType::NoFlush);
    ::close(client_fd_);
    ::close(listen_fd_);
  }

  // A GET routed to `cluster`, with `headers` added.
  void send(const std::string& cluster, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    route_.route.emplace();
    route_.route->cluster = cluster;
    request.set(":method", "GET");
    request.set(":path", "/");
    request.set(":authority", "example");
    for (const auto& [k, v] : headers) request.set(k, v);
    router_ = std::make_unique<RouterFilter>();
    router_->setDecoderFilterCallbacks(*this);
    router_->decodeHeaders(request, true);
  }
  void redirectedFrom(const std::string& to) { downstream_->setOriginalDestination(ip::Address::parse(to)); }
  stats::ClusterStats& statsOf(const std::string& cluster) { return store_.cluster(cluster).worker(0); }

  const sluice::http::Route* route() override { return &route_; }
  upstream::ClusterManager& clusters() override { return manager_; }

  std::vector<std::string> asked;  // hosts whose pool was asked for a stream, in order
  std::string listener_address;    // where the downstream connection arrived

 private:
  stats::StatsStore store_{1};
  upstream::ClusterShared shared_;
  upstream::ClusterManager manager_{0};
  sluice::http::Route route_;
  std::unique_ptr<RouterFilter> router_;
  std::unique_ptr<net::Connection> downstream_;
  int listen_fd_ = -1, client_fd_ = -1;
};

TEST_F(OriginalDstRouteTest, TheHostIsWhereTheClientWasGoing) {
  redirectedFrom("10.9.0.1:80");
  send("pass");
  EXPECT_EQ(asked, std::vector<std::string>{"10.9.0.1:80"});
  EXPECT_EQ(streamInfo().upstream_host, "10.9.0.1:80");
  EXPECT_FALSE(local_status);
}

TEST_F(OriginalDstRouteTest, TheHeaderIsIgnoredUnlessTheClusterTakesIt) {
  redirectedFrom("10.9.0.1:80");
  send("pass", {{"x-envoy-original-dst-host", "10.9.0.2:81"}});
  EXPECT_EQ(asked, std::vector<std::string>{"10.9.0.1:80"});
  EXPECT_EQ(statsOf("pass").upstream_rq_original_dst_host_invalid.value(), 0);
}

TEST_F(OriginalDstRouteTest, TheHeaderPicksTheHostWhereAllowed) {
  redirectedFrom("10.9.0.1:80");
  send("by-header", {{"x-envoy-original-dst-host", "[2001:db8::5]:8080"}});
  EXPECT_EQ(asked, std::vector<std::string>{"[2001:db8::5]:8080"});
  EXPECT_EQ(streamInfo().upstream_host, "[2001:db8::5]:8080");
}

TEST_F(OriginalDstRouteTest, ABadHeaderFallsBackToTheOriginalDestination) {
  redirectedFrom("10.9.0.1:80");
  send("by-header", {{"x-envoy-original-dst-host", "backend.example:80"}});
  EXPECT_EQ(asked, std::vector<std::string>{"10.9.0.1:80"});
  EXPECT_EQ(statsOf("by-header").upstream_rq_original_dst_host_invalid.value(), 1);
}

TEST_F(OriginalDstRouteTest, AConnectionToTheListenerItselfIsRefused) {
  send("pass");  // not redirected: no original destination
  EXPECT_TRUE(asked.empty());
  EXPECT_EQ(local_status, 503);
  EXPECT_EQ(streamInfo().details, "original_dst_loop");
  EXPECT_EQ(statsOf("pass").upstream_cx_original_dst_loop.value(), 1);
}

TEST_F(OriginalDstRouteTest, AHeaderNamingTheListenerIsRefused) {
  redirectedFrom("10.9.0.1:80");
  send("by-header", {{"x-envoy-original-dst-host", listener_address}});
  EXPECT_TRUE(asked.empty());
  EXPECT_EQ(local_status, 503);
  EXPECT_EQ(statsOf("by-header").upstream_cx_original_dst_loop.value(), 1);
}

}  // namespace
}  // namespace sluice::filters::router
