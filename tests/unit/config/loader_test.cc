#include "config/loader.h"
#include "tests/unit/config/load_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "config/config_json.h"
#include "filters/network/tcp_proxy/config.h"

namespace sluice::config {
namespace {

using testing::Errors;
using testing::errorsOf;
using testing::loadOk;
using namespace std::chrono_literals;

const filters::tcp_proxy::Spec& tcpProxy(const ListenerConfig& l) {
  return dynamic_cast<const filters::tcp_proxy::Spec&>(*l.filters.at(0).spec);
}

// Raw strings start right after R"( so that line 1 is the first YAML line.
const char* const kFull = R"(admin:
  address: 127.0.0.1:9902
workers: 2
drain_timeout: 30s
listeners:
  - name: demo
    address: 127.0.0.1:10000
    max_connections: 1000
    per_connection_buffer_limit_bytes: 65536
    tcp_proxy:
      cluster: backends
      idle_timeout: 2m
      max_connect_attempts: 5
clusters:
  - name: backends
    connect_timeout: 250ms
    lb_policy: round_robin
    endpoints:
      - address: 127.0.0.1:18081
        weight: 3
      - address: "[::1]:18082"
)";

TEST(ConfigLoaderTest, FullConfigFields) {
  auto cfg = loadOk(kFull);
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->source_file, "t.yaml");
  EXPECT_EQ(cfg->bootstrap.admin.address.str(), "127.0.0.1:9902");
  EXPECT_EQ(cfg->bootstrap.workers, 2u);
  EXPECT_EQ(cfg->bootstrap.drain_timeout, 30s);

  ASSERT_EQ(cfg->listeners.size(), 1u);
  const auto& l = cfg->listeners[0];
  EXPECT_EQ(l.name, "demo");
  EXPECT_EQ(l.address.str(), "127.0.0.1:10000");
  EXPECT_EQ(l.max_connections, 1000u);
  EXPECT_EQ(l.per_connection_buffer_limit_bytes, 65536u);
  EXPECT_EQ(l.loc.line, 6);
  EXPECT_EQ(l.loc.column, 5);
  ASSERT_EQ(l.filters.size(), 1u);
  EXPECT_EQ(l.filters[0].name, "tcp_proxy");
  EXPECT_EQ(tcpProxy(l).cluster, "backends");
  EXPECT_EQ(tcpProxy(l).idle_timeout, 2min);
  EXPECT_EQ(tcpProxy(l).max_connect_attempts, 5u);

  ASSERT_EQ(cfg->clusters.size(), 1u);
  const auto& c = cfg->clusters[0];
  EXPECT_EQ(c.name, "backends");
  EXPECT_EQ(c.connect_timeout, 250ms);
  EXPECT_EQ(c.lb_policy, LbPolicy::RoundRobin);
  const auto& eps = cfg->endpointsOf(c);
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].address.str(), "127.0.0.1:18081");
  EXPECT_EQ(eps[0].weight, 3u);
  EXPECT_EQ(eps[1].address.str(), "[::1]:18082");
  EXPECT_EQ(eps[1].weight, 1u);
  EXPECT_EQ(cfg->findCluster("backends"), &c);
}

TEST(ConfigLoaderTest, Defaults) {
  auto cfg = loadOk(R"(listeners:
  - name: a
    address: 127.0.0.1:0
    tcp_proxy: {cluster: c}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)");
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->bootstrap.admin.address.str(), "127.0.0.1:9901");
  EXPECT_EQ(cfg->bootstrap.workers, 0u);
  EXPECT_EQ(cfg->bootstrap.drain_timeout, 10s);
  const auto& l = cfg->listeners.at(0);
  EXPECT_EQ(l.address.port(), 0);  // the kernel picks
  EXPECT_EQ(l.max_connections, 0u);
  EXPECT_EQ(l.per_connection_buffer_limit_bytes, 1024u * 1024u);
  EXPECT_EQ(tcpProxy(l).idle_timeout, 1h);
  EXPECT_EQ(tcpProxy(l).max_connect_attempts, 3u);
  const auto& c = cfg->clusters.at(0);
  EXPECT_EQ(c.connect_timeout, 5s);
  EXPECT_EQ(c.lb_policy, LbPolicy::RoundRobin);
  EXPECT_EQ(cfg->endpointsOf(c).at(0).weight, 1u);
}

TEST(ConfigLoaderTest, ToJsonShape) {
  auto cfg = loadOk(kFull);
  ASSERT_NE(cfg, nullptr);
  const auto expected = nlohmann::json::parse(R"({
    "admin": {"address": "127.0.0.1:9902"},
    "workers": 2,
    "drain_timeout": "30s",
    "config_source": {"kind": "file", "path": "t.yaml"},
    "listeners": [{
      "name": "demo", "address": "127.0.0.1:10000", "max_connections": 1000,
      "per_connection_buffer_limit_bytes": 65536,
      "filters": [{"name": "tcp_proxy",
                   "config": {"cluster": "backends", "idle_timeout": "2m", "max_connect_attempts": 5}}]
    }],
    "route_configs": [],
    "clusters": [{
      "name": "backends", "connect_timeout": "250ms", "lb_policy": "round_robin", "hash_policy": [],
      "ring_hash": {"minimum_ring_size": 1024, "maximum_ring_size": 8388608},
      "maglev": {"table_size": 65537}, "least_request": {"choice_count": 2},
      "panic_threshold": 50, "overprovisioning_factor": 140,
      "circuit_breakers": {"max_connections": 1024, "max_pending_requests": 1024, "max_requests": 1024,
                           "max_retries": 3,
                           "retry_budget": {"budget_percent": 20, "min_retry_concurrency": 3},
                           "high": {"max_pending_requests": 1024, "max_requests": 1024, "max_retries": 3,
                                    "retry_budget": {"budget_percent": 20, "min_retry_concurrency": 3}}},
      "max_connections_per_host": 1024, "max_pending_requests": 1024, "idle_timeout": "1m", "protocol": "http1",
      "load_assignment": "backends"
    }],
    "load_assignments": [{
      "cluster_name": "backends",
      "endpoints": [{"address": "127.0.0.1:18081", "weight": 3, "priority": 0},
                    {"address": "[::1]:18082", "weight": 1, "priority": 0}]
    }],
    "secrets": []
  })");
  EXPECT_EQ(toJson(*cfg), expected) << toJson(*cfg).dump(2);
}

TEST(ConfigLoaderTest, ToJsonIgnoresPosition) {
  auto a = loadOk(kFull);
  auto b = loadOk(std::string("\n\n") + kFull);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->listeners[0].loc.line, b->listeners[0].loc.line);
  EXPECT_EQ(toJson(a->listeners[0]), toJson(b->listeners[0]));
}

TEST(ConfigLoaderTest, UnknownTopLevelField) {
  EXPECT_EQ(errorsOf("workers: 1\nlistenrs: []\n"),
            (Errors{"t.yaml:2:1: unknown field 'listenrs'; did you mean 'listeners'?"}));
}

TEST(ConfigLoaderTest, UnknownListenerField) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:0
    adress: 127.0.0.1:1
    tcp_proxy: {cluster: c}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)"),
            (Errors{"t.yaml:4:5: listeners[0]: unknown field 'adress'; did you mean 'address'?"}));
}

TEST(ConfigLoaderTest, UnknownTcpProxyField) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:0
    tcp_proxy:
      cluster: c
      idle_timout: 5s
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)"),
            (Errors{"t.yaml:6:7: listeners[0].tcp_proxy: unknown field 'idle_timout'; did you mean 'idle_timeout'?"}));
}

TEST(ConfigLoaderTest, UnknownEndpointField) {
  EXPECT_EQ(errorsOf(R"(clusters:
  - name: c
    endpoints:
      - address: 127.0.0.1:1
        wieght: 2
        zone: eu
)"),
            (Errors{"t.yaml:5:9: clusters[0].endpoints[0]: unknown field 'wieght'; did you mean 'weight'?",
                    "t.yaml:6:9: clusters[0].endpoints[0]: unknown field 'zone'"}));
}

TEST(ConfigLoaderTest, BadDurations) {
  EXPECT_EQ(errorsOf(R"(drain_timeout: 10
clusters:
  - name: c
    connect_timeout: 1.5s
    endpoints: [{address: 127.0.0.1:1}]
  - name: d
    connect_timeout: 0ms
    endpoints: [{address: 127.0.0.1:1}]
)"),
            (Errors{"t.yaml:1:16: drain_timeout: expected a duration like 250ms, 5s, 2m, 1h",
                    "t.yaml:4:22: clusters[0].connect_timeout: expected a duration like 250ms, 5s, 2m, 1h",
                    "t.yaml:7:22: clusters[1].connect_timeout: must be greater than 0"}));
}

TEST(ConfigLoaderTest, EndpointPortOutOfRange) {
  EXPECT_EQ(errorsOf(R"(clusters:
  - name: a
    endpoints:
      - address: 127.0.0.1:1
  - name: b
    endpoints:
      - address: 127.0.0.1:70000
      - address: 127.0.0.1:0
      - address: 127.0.0.1
)"),
            (Errors{"t.yaml:7:18: clusters[1].endpoints[0].address: port out of range",
                    "t.yaml:8:18: clusters[1].endpoints[1].address: port out of range",
                    "t.yaml:9:18: clusters[1].endpoints[2].address: missing port (expected host:port)"}));
}

TEST(ConfigLoaderTest, MissingRequiredFields) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - max_connections: 5
    tcp_proxy: {idle_timeout: 1s}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
  - name: d
  - name: e
    endpoints: []
)"),
            (Errors{"t.yaml:2:5: listeners[0].name: missing required field",
                    "t.yaml:2:5: listeners[0].address: missing required field",
                    "t.yaml:3:16: listeners[0].tcp_proxy.cluster: missing required field",
                    "t.yaml:7:5: clusters[1].endpoints: missing required field",
                    "t.yaml:9:16: clusters[2].endpoints: at least one endpoint is required"}));
}

TEST(ConfigLoaderTest, WrongTypes) {
  EXPECT_EQ(errorsOf(R"(admin: 127.0.0.1:9901
workers: many
listeners:
  name: a
clusters:
  - name: [c]
    endpoints: {address: 127.0.0.1:1}
  - name: d
    endpoints:
      - address: "127.0.0.1:1"
        weight: 0
  - just a string
)"),
            (Errors{"t.yaml:1:8: admin: expected a mapping",
                    "t.yaml:2:10: workers: expected an integer between 0 and 256",
                    "t.yaml:4:3: listeners: expected a list",
                    "t.yaml:6:11: clusters[0].name: expected a string",
                    "t.yaml:7:16: clusters[0].endpoints: expected a list",
                    "t.yaml:11:17: clusters[1].endpoints[0].weight: expected an integer between 1 and 128",
                    "t.yaml:12:5: clusters[2]: expected a mapping"}));
}

TEST(ConfigLoaderTest, OutOfRangeAndUnsupportedValues) {
  EXPECT_EQ(errorsOf(R"(workers: 257
listeners:
  - name: "bad name"
    address: 127.0.0.1:0
    per_connection_buffer_limit_bytes: 512
    tcp_proxy: {cluster: c, max_connect_attempts: 0}
clusters:
  - name: c
    lb_policy: fastest
    endpoints: [{address: 127.0.0.1:1}]
)"),
            (Errors{"t.yaml:1:10: workers: expected an integer between 0 and 256",
                    "t.yaml:3:11: listeners[0].name: invalid name 'bad name': use [A-Za-z0-9_.-]+",
                    "t.yaml:5:40: listeners[0].per_connection_buffer_limit_bytes: expected an integer between 1024 and "
                    "67108864",
                    "t.yaml:6:51: listeners[0].tcp_proxy.max_connect_attempts: expected an integer between 1 and 16",
                    "t.yaml:9:16: clusters[0].lb_policy: unsupported lb_policy 'fastest' (supported: round_robin, "
                    "least_request, random, ring_hash, maglev)"}));
}

TEST(ConfigLoaderTest, UnknownClusterReference) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:0
    tcp_proxy:
      cluster: nope
)"),
            (Errors{"t.yaml:5:16: listeners[0].tcp_proxy.cluster: unknown cluster 'nope'"}));
}

TEST(ConfigLoaderTest, DuplicateNamesAndAddresses) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:8000
    tcp_proxy: {cluster: c}
  - name: a
    address: 127.0.0.1:8000
    tcp_proxy: {cluster: c}
  - name: b
    address: 127.0.0.1:0
    tcp_proxy: {cluster: c}
  - name: e
    address: 127.0.0.1:0
    tcp_proxy: {cluster: c}
clusters:
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
  - name: c
    endpoints: [{address: 127.0.0.1:1}]
)"),
            (Errors{"t.yaml:5:11: listeners[1].name: duplicate listener name 'a' (first in listeners[0])",
                    "t.yaml:6:14: listeners[1].address: address 127.0.0.1:8000 already used by listener 'a'",
                    "t.yaml:17:11: clusters[1].name: duplicate cluster name 'c' (first in clusters[0])"}));
}

TEST(ConfigLoaderTest, DuplicateYamlKey) {
  EXPECT_EQ(errorsOf("workers: 1\nworkers: 2\n"), (Errors{"t.yaml:2:1: duplicate field 'workers'"}));
}

TEST(ConfigLoaderTest, ListenerWithoutTerminalFilter) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:0
  - name: b
    address: 127.0.0.1:0
    tcp_proxi: {cluster: c}
)"),
            (Errors{"t.yaml:2:5: listeners[0]: listener needs a terminal network filter (tcp_proxy)",
                    "t.yaml:4:5: listeners[1]: listener needs a terminal network filter (tcp_proxy)",
                    "t.yaml:6:5: listeners[1]: unknown field 'tcp_proxi'"}));
}

TEST(ConfigLoaderTest, FilterThatIsNotAMapping) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:0
    tcp_proxy: c
)"),
            (Errors{"t.yaml:4:16: listeners[0].tcp_proxy: expected a mapping"}));
}

TEST(ConfigLoaderTest, YamlSyntaxError) {
  const LoadResult r = loadString("listeners:\n  - name: a\n    address: [1, 2\n", "t.yaml");
  EXPECT_EQ(r.config, nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 4);  // the flow sequence runs into the end of the file
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_EQ(r.errors[0].str(), "t.yaml:4:1: end of sequence flow not found");

  EXPECT_EQ(errorsOf("workers: 1\nadmin: a: b\n"), (Errors{"t.yaml:2:9: illegal map value"}));
}

TEST(ConfigLoaderTest, EmptyAndMultiDocument) {
  EXPECT_EQ(errorsOf(""), (Errors{"t.yaml: config is empty"}));
  EXPECT_EQ(errorsOf("workers: 1\n---\nworkers: 2\n"), (Errors{"t.yaml:3:1: expected a single YAML document"}));
}

TEST(ConfigLoaderTest, CollectsErrorsFromEverySection) {
  EXPECT_EQ(errorsOf(R"(workers: -1
listeners:
  - name: a
    address: 127.0.0.1:99999
    tcp_proxy:
      cluster: missing
      idle_timeout: soon
clusters:
  - name: c
    endpoints: [{address: "[::1]"}]
bogus: 1
)"),
            (Errors{"t.yaml:1:10: workers: expected an integer between 0 and 256",
                    "t.yaml:4:14: listeners[0].address: port out of range",
                    "t.yaml:6:16: listeners[0].tcp_proxy.cluster: unknown cluster 'missing'",
                    "t.yaml:7:21: listeners[0].tcp_proxy.idle_timeout: expected a duration like 250ms, 5s, 2m, 1h",
                    "t.yaml:10:27: clusters[0].endpoints[0].address: missing port",
                    "t.yaml:11:1: unknown field 'bogus'"}));
}

TEST(ConfigLoaderTest, LoadFileSetsSourceAndNamesFileInErrors) {
  std::string path = ::testing::TempDir() + "sluice_config_XXXXXX";
  const int fd = ::mkstemp(path.data());
  ASSERT_GE(fd, 0);
  const std::string text = std::string(kFull) + "extra: 1\n";
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);

  const LoadResult bad = loadFile(path);
  EXPECT_EQ(bad.config, nullptr);
  EXPECT_EQ(bad.errorText(), path + ":22:1: unknown field 'extra'\n");

  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(std::string(kFull).size())), 0);
  const LoadResult good = loadFile(path);
  ASSERT_NE(good.config, nullptr) << good.errorText();
  EXPECT_EQ(good.config->source_file, path);
  // The bootstrap says where later configs come from: the file just read.
  EXPECT_EQ(good.config->bootstrap.config_source.kind, ConfigSourceSpec::Kind::File);
  EXPECT_EQ(good.config->bootstrap.config_source.path, path);
  EXPECT_EQ(good.config->listeners.at(0).name, "demo");
  std::remove(path.c_str());
}

TEST(ConfigLoaderTest, UnreadableFile) {
  const LoadResult r = loadFile("/nonexistent/sluice.yaml");
  EXPECT_EQ(r.config, nullptr);
  EXPECT_EQ(r.errorText(), "/nonexistent/sluice.yaml: cannot read: No such file or directory\n");

  const LoadResult dir = loadFile("/");
  EXPECT_EQ(dir.errorText(), "/: cannot read: Is a directory\n");
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigLoaderTest, NodeIdentityIsPartOfTheBootstrap) {
  auto cfg = loadOk("node: {id: sidecar~10.0.0.7~web-1~prod, cluster: web}\nworkers: 1\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->bootstrap.node.id, "sidecar~10.0.0.7~web-1~prod");
  EXPECT_EQ(cfg->bootstrap.node.cluster, "web");
  EXPECT_EQ(toJson(*cfg)["node"]["cluster"], "web");
  EXPECT_FALSE(toJson(*loadOk("workers: 1\n")).contains("node")) << "no node, no key";
  EXPECT_EQ(errorsOf("node: {id: a, zone: b}\n"), (Errors{"t.yaml:1:15: node: unknown field 'zone'"}));
}

}  // namespace
}  // namespace sluice::config
