// gRPC through the proxy between two HTTP/2 stacks that are not nghttp2 on
// the client side: Python's grpcio (gRPC C-core, support/grpc_python_client.py)
// calls the @grpc/grpc-js Echo server (support/grpc_server.js) through
// sluice, which speaks nghttp2 on both of its sides. Unary and
// server-streaming calls, a status the server sets, and a deadline that
// runs out in the middle of the call.

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/integration/support/config.h"
#include "tests/integration/support/grpc_node.h"
#include "tests/integration/support/grpc_python.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

constexpr int kOk = 0, kDeadlineExceeded = 4, kPermissionDenied = 7;

class GrpcPythonClient : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(havePythonGrpcio());
    ASSERT_TRUE(server_.start());
    ClusterSpec c = cluster("grpc", {server_.port()});
    c.extra_lines = {"protocol: http2"};
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(httpConfig("codec: auto\n" + routeAllTo("grpc"), {c})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  nlohmann::json call(const std::string& mode, const std::vector<std::string>& args) {
    return runPythonGrpcClient(mode, "127.0.0.1:" + std::to_string(port_), args);
  }

  GrpcEchoServer server_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(GrpcPythonClient, Unary) {
  const nlohmann::json r = call("unary", {"from python"});
  ASSERT_EQ(r.value("code", -1), kOk) << r.dump();
  ASSERT_EQ(r["messages"].size(), 1u) << r.dump();
  EXPECT_EQ(r["messages"][0]["text"], "from python");
  EXPECT_EQ(r["messages"][0]["count"], 7);
  EXPECT_GE(metricOr0(*proxy_, "sluice_route_grpc_rq_total",
                      {{"route_config", "web"}, {"route", "all/0"}, {"grpc_status", "0"}}),
            1);
}

TEST_F(GrpcPythonClient, ServerStreaming) {
  const nlohmann::json r = call("server-stream", {"25"});
  ASSERT_EQ(r.value("code", -1), kOk) << r.dump();
  ASSERT_EQ(r["messages"].size(), 25u) << r.dump();
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(r["messages"][i]["count"], i);
    EXPECT_EQ(r["messages"][i]["payload"], "p");
  }
}

TEST_F(GrpcPythonClient, ServerStatusIsPropagated) {
  const nlohmann::json r = call("status", {"7", "not for you"});
  EXPECT_EQ(r.value("code", -1), kPermissionDenied) << r.dump();
  EXPECT_EQ(r.value("details", ""), "not for you");
}

// The server would answer after 5 s; the call's 300 ms deadline (sent as
// grpc-timeout) runs out first: DEADLINE_EXCEEDED, and the server sees the
// call cancelled.
TEST_F(GrpcPythonClient, ExpiredDeadlineIsDeadlineExceeded) {
  const nlohmann::json r = call("deadline", {"5000", "300"});
  EXPECT_EQ(r.value("code", -1), kDeadlineExceeded) << r.dump();
  EXPECT_TRUE(waitUntil([&] { return !server_.cancellations().empty(); }, Millis(10000)))
      << "the upstream call was not cancelled; server stderr: " << server_.stderrText();
}

}  // namespace
}  // namespace sluice::itest
