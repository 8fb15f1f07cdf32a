// The admin HTTP API of the real binary, on a quiet proxy.

#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/config.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

TEST(Admin, EndpointsDescribeTheRunningConfig) {
  TestServer echo(echoHandler());
  ConfigSpec spec = simpleConfig({echo.port()});
  ListenerSpec second;
  second.name = "l2";
  spec.listeners.push_back(second);
  ProxyProcess proxy(renderConfig(spec));
  ASSERT_TRUE(proxy.start());

  HttpResponse ready = proxy.get("/ready");
  ASSERT_TRUE(ready.ok()) << ready.error;
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "LIVE\n");

  // Port 0 in the config: /listeners must report the ports actually bound.
  auto listeners = proxy.listeners();
  ASSERT_EQ(listeners.size(), 2u) << proxy.get("/listeners").body;
  ASSERT_TRUE(listeners.count("l1") && listeners.count("l2")) << proxy.get("/listeners").body;
  EXPECT_NE(listeners["l1"], listeners["l2"]);
  for (const auto& [name, port] : listeners) {
    EXPECT_NE(port, 0) << name;
    Fd c = connectLoopback(port);
    ASSERT_TRUE(c) << name << " on port " << port;
    EXPECT_EQ(echoRoundTrip(c.get(), "via " + name), "") << name;
  }

  HttpResponse clusters = proxy.get("/clusters");
  ASSERT_EQ(clusters.status, 200) << clusters.error;
  std::string host = "c1::127.0.0.1:" + std::to_string(echo.port()) + "::";
  EXPECT_NE(clusters.body.find(host + "weight::1"), std::string::npos) << clusters.body;
  for (const char* field : {"cx_active::", "cx_total::", "cx_connect_fail::", "health_flags::"}) {
    EXPECT_NE(clusters.body.find(host + field), std::string::npos) << field << "\n" << clusters.body;
  }

  HttpResponse dump = proxy.get("/config_dump");
  ASSERT_EQ(dump.status, 200) << dump.error;
  size_t first = dump.body.find_first_not_of(" \t\r\n");
  ASSERT_NE(first, std::string::npos) << "empty /config_dump";
  EXPECT_EQ(dump.body[first], '{') << dump.body;
  EXPECT_NE(dump.body.find("\"l1\""), std::string::npos) << dump.body;
  EXPECT_NE(dump.body.find("\"c1\""), std::string::npos) << dump.body;

  EXPECT_EQ(proxy.metric("sluice_server_draining"), 0);
}

}  // namespace
}  // namespace sluice::itest
