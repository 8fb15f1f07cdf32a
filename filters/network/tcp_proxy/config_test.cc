// tcp_proxy config: inline YAML -> factory -> config or errors.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "filters/network/tcp_proxy/config.h"
#include "filters/network/tcp_proxy/filter.h"

namespace sluice::filters::tcp_proxy {
namespace {

std::string listenerWith(const std::string& tcp_proxy_body) {
  return "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:0\n"
         "    tcp_proxy:\n" +
         tcp_proxy_body +
         "clusters:\n"
         "  - name: c\n"
         "    endpoints: [{address: 127.0.0.1:1}]\n";
}

TEST(TcpProxyConfigTest, RegisteredAsTerminalFilter) {
  const auto* f = config::findNetworkFilterReader("tcp_proxy");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name(), factory().name());
  EXPECT_TRUE(f->terminal());
}

TEST(TcpProxyConfigTest, ParsesFieldsAndDefaults) {
  auto r = config::loadString(listenerWith("      cluster: c\n      idle_timeout: 90s\n"), "t.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errorText();
  const auto& cfg = dynamic_cast<const Spec&>(*r.config->listeners[0].filters[0].spec);
  EXPECT_EQ(cfg.cluster, "c");
  EXPECT_EQ(cfg.idle_timeout, std::chrono::seconds(90));
  EXPECT_EQ(cfg.max_connect_attempts, 3u);
  EXPECT_EQ(cfg.toJson()["idle_timeout"], "90s");
}

TEST(TcpProxyConfigTest, MissingClusterIsAnError) {
  auto r = config::loadString(listenerWith("      idle_timeout: 1s\n"), "t.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << r.errorText();
  EXPECT_EQ(r.errors[0].path, "listeners[0].tcp_proxy.cluster");
}

TEST(TcpProxyConfigTest, UnknownClusterNamesTheField) {
  auto r = config::loadString(listenerWith("      cluster: nope\n"), "t.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << r.errorText();
  EXPECT_EQ(r.errors[0].str(), "t.yaml:5:16: listeners[0].tcp_proxy.cluster: unknown cluster 'nope'");
}

TEST(TcpProxyConfigTest, AttemptsOutOfRangeAndUnknownKey) {
  auto r = config::loadString(listenerWith("      cluster: c\n      max_connect_attempts: 0\n      idle: 1s\n"),
                              "t.yaml");
  ASSERT_EQ(r.errors.size(), 2u) << r.errorText();
  EXPECT_EQ(r.errors[0].path, "listeners[0].tcp_proxy.max_connect_attempts");
  EXPECT_NE(r.errorText().find("unknown field 'idle'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::filters::tcp_proxy
