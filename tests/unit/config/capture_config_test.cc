// The capture keys of the config: a listener's use_original_dst, a filter
// chain's destination_port and prefix_ranges, and original_dst clusters;
// every error names file:line:col: path; the JSON form (config_dump) shows
// the keys only when used.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_json.h"
#include "config/loader.h"
#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::Errors;
using testing::errorsOf;
using testing::loadOk;

constexpr const char* kCaptureListener = R"(listeners:
  - name: outbound
    address: 0.0.0.0:15001
    use_original_dst: true
    filter_chains:
      - match: {destination_port: 8080, prefix_ranges: [10.1.0.0/16, "fd00::/8", 10.2.3.4]}
        tcp_proxy: {cluster: svc}
      - tcp_proxy: {cluster: passthrough}
clusters:
  - name: svc
    endpoints: [{address: 10.1.0.7:8080}]
  - name: passthrough
    type: original_dst
    connect_timeout: 2s
)";

TEST(CaptureConfigTest, ReadsTheCaptureKeys) {
  auto cfg = loadOk(kCaptureListener);
  ASSERT_TRUE(cfg);
  const ListenerConfig& l = cfg->listeners[0];
  EXPECT_TRUE(l.use_original_dst);
  ASSERT_EQ(l.filter_chains.size(), 2u);
  const FilterChainMatch& m = l.filter_chains[0].match;
  EXPECT_EQ(m.destination_port, 8080);
  ASSERT_EQ(m.prefix_ranges.size(), 3u);
  EXPECT_EQ(m.prefix_ranges[0].str(), "10.1.0.0/16");
  EXPECT_EQ(m.prefix_ranges[2].str(), "10.2.3.4/32");
  EXPECT_FALSE(m.empty());
  EXPECT_TRUE(l.filter_chains[1].match.empty());

  const ClusterConfig* pass = cfg->findCluster("passthrough");
  ASSERT_NE(pass, nullptr);
  EXPECT_EQ(pass->type, ClusterType::OriginalDst);
  EXPECT_TRUE(pass->load_assignment.empty());
  EXPECT_EQ(cfg->findCluster("svc")->type, ClusterType::Endpoints);
  EXPECT_EQ(cfg->load_assignments.size(), 1u);  // svc's only

  const auto j = toJson(*cfg);
  EXPECT_EQ(j["listeners"][0]["use_original_dst"], true);
  EXPECT_EQ(j["listeners"][0]["filter_chains"][0]["match"]["destination_port"], 8080);
  EXPECT_EQ(j["listeners"][0]["filter_chains"][0]["match"]["prefix_ranges"][1], "fd00::/8");
  EXPECT_FALSE(j["listeners"][0]["filter_chains"][1]["match"].contains("destination_port"));
  EXPECT_EQ(j["clusters"][1]["type"], "original_dst");
  EXPECT_FALSE(j["clusters"][0].contains("type"));
}

TEST(CaptureConfigTest, PlainListenerJsonHasNoCaptureKeys) {
  auto cfg = loadOk("listeners:\n  - name: l\n    address: 127.0.0.1:0\n    tcp_proxy: {cluster: c}\n"
                    "clusters:\n  - name: c\n    endpoints: [{address: 127.0.0.1:1}]\n");
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(cfg->listeners[0].use_original_dst);
  EXPECT_FALSE(toJson(cfg->listeners[0]).contains("use_original_dst"));
}

TEST(CaptureConfigTest, ErrorsNameTheirPlace) {
  const Errors e = errorsOf(R"(listeners:
  - name: outbound
    address: 0.0.0.0:15001
    use_original_dst: maybe
    filter_chains:
      - match: {destination_port: 0, prefix_ranges: [10.1.0.0/8, nine]}
        tcp_proxy: {cluster: passthrough}
      - match: {destination_port: 70000}
        tcp_proxy: {cluster: passthrough}
clusters:
  - name: passthrough
    type: original_dst
    endpoints: [{address: 127.0.0.1:1}]
    health_check: {tcp: {}}
  - name: other
    type: dns
    endpoints: [{address: 127.0.0.1:1}]
)");
  EXPECT_EQ(e, (Errors{
                   "t.yaml:4:23: listeners[0].use_original_dst: expected true or false",
                   "t.yaml:6:35: listeners[0].filter_chains[0].match.destination_port: expected an integer between 1 and 65535",
                   "t.yaml:6:54: listeners[0].filter_chains[0].match.prefix_ranges[0]: '10.1.0.0/8': address has "
                   "bits set past the prefix length",
                   "t.yaml:6:66: listeners[0].filter_chains[0].match.prefix_ranges[1]: 'nine': invalid IP address "
                   "(expected 10.0.0.0/8 or 2001:db8::/32)",
                   "t.yaml:8:35: listeners[0].filter_chains[1].match.destination_port: expected an integer between 1 and 65535",
                   "t.yaml:13:16: clusters[0].endpoints: an original_dst cluster connects to each connection's "
                   "original destination: no endpoints",
                   "t.yaml:14:19: clusters[0].health_check: an original_dst cluster connects to each connection's "
                   "original destination: no health_check",
                   "t.yaml:16:11: clusters[1].type: must be endpoints or original_dst",
               }));
}

TEST(CaptureConfigTest, OriginalDstClusterTakesHeaderAndCleanupInterval) {
  auto cfg = loadOk(
      "clusters:\n  - name: plain\n    type: original_dst\n"
      "  - name: by-header\n    type: original_dst\n    use_http_header: true\n"
      "    cleanup_interval: 250ms\n");
  ASSERT_TRUE(cfg);
  const ClusterConfig* plain = cfg->findCluster("plain");
  EXPECT_FALSE(plain->use_http_header);  // never unless asked: a header choosing the upstream is an SSRF vector
  EXPECT_EQ(plain->cleanup_interval, std::chrono::seconds(5));
  const ClusterConfig* by_header = cfg->findCluster("by-header");
  EXPECT_TRUE(by_header->use_http_header);
  EXPECT_EQ(by_header->cleanup_interval, std::chrono::milliseconds(250));
  const auto j = toJson(*cfg);
  EXPECT_EQ(j["clusters"][1]["use_http_header"], true);
  EXPECT_EQ(j["clusters"][1]["cleanup_interval"], "250ms");
}

TEST(CaptureConfigTest, OriginalDstKeysAreRefusedElsewhereAndChecked) {
  const Errors e = errorsOf(R"(clusters:
  - name: svc
    endpoints: [{address: 127.0.0.1:1}]
    use_http_header: true
    cleanup_interval: 1s
  - name: pass
    type: original_dst
    use_http_header: sometimes
    cleanup_interval: 0s
)");
  EXPECT_EQ(e, (Errors{
                   "t.yaml:4:22: clusters[0].use_http_header: only an original_dst cluster takes use_http_header",
                   "t.yaml:5:23: clusters[0].cleanup_interval: only an original_dst cluster takes cleanup_interval",
                   "t.yaml:8:22: clusters[1].use_http_header: expected true or false",
                   "t.yaml:9:23: clusters[1].cleanup_interval: must be greater than 0",
               }));
}

}  // namespace
}  // namespace sluice::config
