// gRPC through the real binary: a @grpc/grpc-js client (grpc_client.js)
// calls sluice's listener over plaintext HTTP/2 (h2c prior knowledge, codec
// auto), sluice routes to a cluster with `protocol: http2`, and a
// @grpc/grpc-js server (grpc_server.js) answers. Every kind of call crosses
// the proxy: unary, client, server and bidirectional streams, 4 MiB
// messages, statuses in trailers-only responses and in trailers, a deadline
// that must cancel the upstream stream, many calls at once, a server that
// shuts down or is not there, and the shipped config/examples/grpc.yaml as
// it is.

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include <string>

#include "tests/integration/support/config.h"
#include "tests/integration/support/grpc_node.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
constexpr int kMiB = 1024 * 1024;
const Labels kGrpcCluster{{"cluster", "grpc"}};

// gRPC status codes.
constexpr int kOk = 0, kDeadlineExceeded = 4, kNotFound = 5, kPermissionDenied = 7, kUnavailable = 14;

ClusterSpec grpcCluster(uint16_t port) {
  ClusterSpec c = cluster("grpc", {port});
  c.extra_lines = {"protocol: http2"};
  return c;
}

class GrpcProxy : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.start()); }

  // A listener "web" (codec auto) whose routes are `http_yaml`, to cluster
  // "grpc" at `upstream_port` (the gRPC server unless given).
  ConfigSpec spec(const std::string& http_yaml = routeAllTo("grpc"), uint16_t upstream_port = 0) const {
    return httpConfig("codec: auto\n" + http_yaml, {grpcCluster(upstream_port ? upstream_port : server_.port())});
  }
  void startProxy(const ConfigSpec& config) {
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(config));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  void startProxy(const std::string& http_yaml = routeAllTo("grpc")) { startProxy(spec(http_yaml)); }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  nlohmann::json call(const std::string& mode, const std::vector<std::string>& args = {}) {
    return runGrpcClient(mode, target(), args);
  }

  GrpcEchoServer server_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(GrpcProxy, Unary) {
  startProxy();
  const auto r = call("unary");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["code"], kOk) << r.dump();
  EXPECT_EQ(r["text"], "hello") << r.dump();
  EXPECT_EQ(r["bytes"], 16) << r.dump();
  EXPECT_EQ(metricOr0(*proxy_, "sluice_listener_downstream_cx_http2_total", {{"listener", "web"}}), 1);
  EXPECT_EQ(metricOr0(*proxy_, "sluice_cluster_upstream_rq_2xx_total", kGrpcCluster), 1);
}

TEST_F(GrpcProxy, ClientStream) {
  startProxy();
  // 200 messages of 16 KiB: more than the default HTTP/2 windows on each hop.
  const auto r = call("client-stream", {"200", std::to_string(16 * 1024)});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["code"], kOk) << r.dump();
  EXPECT_EQ(r["server_count"], 200) << r.dump();
  EXPECT_EQ(r["server_bytes"], 200 * 16 * 1024) << r.dump();
}

TEST_F(GrpcProxy, ServerStream) {
  startProxy();
  const auto r = call("server-stream", {"1000"});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["code"], kOk) << r.dump();
  EXPECT_EQ(r["messages"], 1000) << r.dump();
  EXPECT_EQ(r["bytes"], 1000 * 64) << r.dump();
  EXPECT_EQ(r["in_order"], true) << r.dump();
}

TEST_F(GrpcProxy, BidiStreamOf300RoundTrips) {
  startProxy();
  // Each message is sent only after the previous echo came back, so every
  // one must cross the proxy both ways on its own, not in a batch.
  const auto r = call("bidi", {"300"});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["code"], kOk) << r.dump();
  EXPECT_EQ(r["messages"], 300) << r.dump();
  EXPECT_EQ(r["mismatches"], 0) << r.dump();
}

TEST_F(GrpcProxy, FourMiBMessageEachWay) {
  startProxy();
  const auto r = call("big", {std::to_string(4 * kMiB)});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["code"], kOk) << r.dump();
  EXPECT_EQ(r["bytes"], 4 * kMiB) << r.dump();
  EXPECT_EQ(r["echo_matches"], true) << r.dump();
}

TEST_F(GrpcProxy, ServerStatusAndMessageReachTheClient) {
  startProxy();
  // Trailers-only: one HEADERS frame with END_STREAM carrying grpc-status.
  const auto only = call("unary-status", {std::to_string(kNotFound), "no such echo"});
  EXPECT_EQ(only["code"], kNotFound) << only.dump();
  EXPECT_EQ(only["details"], "no such echo") << only.dump();
  // Response headers first, then the status in trailers.
  const auto trailers = call("unary-status", {std::to_string(kNotFound), "gone after headers", "after-headers"});
  EXPECT_EQ(trailers["code"], kNotFound) << trailers.dump();
  EXPECT_EQ(trailers["details"], "gone after headers") << trailers.dump();
  // Messages, then a status in trailers.
  const auto stream = call("server-stream", {"3", std::to_string(kPermissionDenied), "stop here"});
  EXPECT_EQ(stream["code"], kPermissionDenied) << stream.dump();
  EXPECT_EQ(stream["details"], "stop here") << stream.dump();
  EXPECT_EQ(stream["messages"], 3) << stream.dump();

  // The proxy keeps each response's shape: trailers-only stays trailers-only
  // (grpc-message percent-encoded as sent), trailers stay trailers.
  const auto raw_only = call("raw", {std::to_string(kNotFound), "no such echo"});
  EXPECT_EQ(raw_only["status"], 200) << raw_only.dump();
  EXPECT_EQ(raw_only["trailers_only"], true) << raw_only.dump();
  EXPECT_EQ(raw_only["code"], kNotFound) << raw_only.dump();
  EXPECT_EQ(raw_only["details"], "no such echo") << raw_only.dump();
  const auto raw_trailers = call("raw", {std::to_string(kNotFound), "gone", "after-headers"});
  EXPECT_EQ(raw_trailers["status"], 200) << raw_trailers.dump();
  EXPECT_EQ(raw_trailers["trailers_only"], false) << raw_trailers.dump();
  EXPECT_EQ(raw_trailers["code"], kNotFound) << raw_trailers.dump();
  EXPECT_EQ(raw_trailers["details"], "gone") << raw_trailers.dump();
}

TEST_F(GrpcProxy, ClientDeadlineCancelsTheUpstreamStream) {
  // grpc-timeout is removed on the way up, so the server has no deadline of
  // its own: only the proxy, passing on the client's RST_STREAM, can end the
  // server's call before its 2 s delay is over.
  startProxy(routeAllTo("grpc") + "  request_headers_to_remove: [grpc-timeout]\n");  // on the route_config
  const auto r = call("deadline", {"2000", "200"});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["code"], kDeadlineExceeded) << r.dump();
  EXPECT_LT(r["elapsed_ms"].get<int>(), 1500) << r.dump();
  ASSERT_TRUE(waitUntil([&] { return !server_.cancellations().empty(); }, 1500ms))
      << "the server's call was not cancelled: the proxy kept the upstream stream open";
  const std::string line = server_.cancellations().front();
  ASSERT_EQ(line.rfind("cancelled Unary after ", 0), 0u) << line;
  EXPECT_LT(std::stoi(line.substr(line.find("after ") + 6)), 1500) << line;
  EXPECT_NE(line.find("deadline none"), std::string::npos) << "grpc-timeout reached the server: " << line;
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_cluster_upstream_rq_active", kGrpcCluster, 0));
}

TEST_F(GrpcProxy, TwoThousandConcurrentUnaryCalls) {
  startProxy();
  const auto r = call("concurrent", {"2000", "50"});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["ok"], 2000) << r.dump();
  EXPECT_EQ(r["failed"], 0) << r.dump();
  EXPECT_EQ(metricOr0(*proxy_, "sluice_cluster_upstream_rq_2xx_total", kGrpcCluster), 2000);
  // One client connection lands on one worker, whose pool multiplexes: the
  // 50 calls at a time share one upstream connection.
  EXPECT_EQ(metricOr0(*proxy_, "sluice_cluster_upstream_cx_total", kGrpcCluster), 1);
}

// A server that shuts down sends GOAWAY on the proxy's idle upstream
// connection. The worker that owns it must go on serving: the next call is
// UNAVAILABLE at once, and a server back on the port is used again. One
// worker, so the calls after the shutdown meet the connection's worker.
TEST_F(GrpcProxy, ServerShutdownLeavesTheWorkerServing) {
  ConfigSpec config = spec();
  config.workers = 1;
  startProxy(config);
  ASSERT_EQ(call("unary")["code"], kOk);
  const uint16_t port = server_.port();
  server_.stop();
  const auto down = call("unary");
  EXPECT_EQ(down["code"], kUnavailable) << down.dump();
  EXPECT_LT(down["elapsed_ms"].get<int>(), 3000) << down.dump();

  GrpcEchoServer again;
  ASSERT_TRUE(again.start(port));
  const auto up = call("unary");
  EXPECT_EQ(up["code"], kOk) << up.dump();
}

// Needs gRPC-aware local replies (being added on main): a call the proxy
// answers itself must get HTTP 200 with grpc-status 14 in a trailers-only
// response. grpc-js alone maps an HTTP 503 to UNAVAILABLE too, so the raw
// check below is the one that tells the feature is there.
TEST_F(GrpcProxy, ClosedUpstreamPortIsUnavailable) {
  const uint16_t closed = [] {
    Fd fd = listenLoopback(1);
    return localPort(fd.get());
  }();  // bound, then closed: nothing listens there
  startProxy(spec(routeAllTo("grpc"), closed));
  const auto r = call("unary");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["code"], kUnavailable) << r.dump();
  const auto raw = call("raw", {"0", ""});
  EXPECT_EQ(raw["status"], 200) << "a local reply to a gRPC call must be HTTP 200: " << raw.dump();
  EXPECT_EQ(raw["trailers_only"], true) << raw.dump();
  EXPECT_EQ(raw["code"], kUnavailable) << raw.dump();
}

// Whether a server could listen on 127.0.0.1:port now. SO_REUSEADDR, as
// servers set it: connections of an earlier run in TIME-WAIT do not count.
bool portFree(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return fd && ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// config/examples/grpc.yaml exactly as shipped, on its fixed ports.
TEST(GrpcExample, ShippedExampleProxiesToTheGrpcServer) {
  for (uint16_t port : {9901, 10000, 18090})
    if (!portFree(port)) GTEST_SKIP() << "127.0.0.1:" << port << " is busy; grpc.yaml needs it";
  GrpcEchoServer server;
  ASSERT_TRUE(server.start(18090));
  const std::string yaml = readFile(repoRoot() + "/config/examples/grpc.yaml");
  ASSERT_FALSE(yaml.empty());
  ProxyProcess proxy(yaml);
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "edge"));
  ASSERT_EQ(port, 10000);

  const std::string target = "127.0.0.1:10000";
  const auto unary = runGrpcClient("unary", target);
  EXPECT_EQ(unary["code"], kOk) << unary.dump();
  EXPECT_EQ(unary["text"], "hello") << unary.dump();
  // The retry policy keeps request bodies for replay: streams must still flow.
  const auto bidi = runGrpcClient("bidi", target, {"50"});
  EXPECT_EQ(bidi["code"], kOk) << bidi.dump();
  EXPECT_EQ(bidi["messages"], 50) << bidi.dump();
  const auto up = runGrpcClient("client-stream", target, {"20", "1000"});
  EXPECT_EQ(up["server_bytes"], 20000) << up.dump();
  const auto status = runGrpcClient("unary-status", target, {std::to_string(kNotFound), "nope"});
  EXPECT_EQ(status["code"], kNotFound) << status.dump();
  EXPECT_EQ(status["details"], "nope") << status.dump();
}

}  // namespace
}  // namespace sluice::itest
