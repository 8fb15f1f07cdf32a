// The bootstrap's `overload:` block: defaults, sizes, hysteresis, every error
// at file:line:col with its path, and the JSON form /config_dump shows.
#include <gtest/gtest.h>

#include <string>

#include "config/config_json.h"
#include "config/loader.h"
#include "config/overload.h"
#include "tests/unit/config/load_support.h"

namespace sluice::config {
namespace {

using testing::Errors;
using testing::errorsOf;
using testing::loadOk;

TEST(OverloadConfigTest, AbsentMeansOff) {
  auto cfg = loadOk("listeners: []\n");
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(cfg->bootstrap.overload.enabled());
  EXPECT_FALSE(toJson(*cfg).contains("overload"));
}

TEST(OverloadConfigTest, ReadsResourcesActionsAndHysteresis) {
  auto cfg = loadOk(R"(overload:
  refresh_interval: 100ms
  resources:
    downstream_connections: {max: 10000}
    heap_bytes: {max: 512Mi}
  actions:
    - {name: stop_accepting, when: {resource: downstream_connections, at: 1.0}}
    - {name: disable_keepalive, when: {resource: heap_bytes, at: 0.9, release_at: 0.5}}
    - {name: shed_requests, when: {resource: heap_bytes, at: 0.95}}
)");
  ASSERT_TRUE(cfg);
  const OverloadSpec& o = cfg->bootstrap.overload;
  EXPECT_EQ(o.refresh_interval, std::chrono::milliseconds(100));
  EXPECT_EQ(o.max[static_cast<size_t>(OverloadResource::DownstreamConnections)], 10000u);
  EXPECT_EQ(o.max[static_cast<size_t>(OverloadResource::HeapBytes)], 512ull << 20);
  ASSERT_EQ(o.triggers.size(), 3u);
  EXPECT_EQ(o.triggers[0].action, OverloadAction::StopAccepting);
  EXPECT_EQ(o.triggers[0].resource, OverloadResource::DownstreamConnections);
  EXPECT_DOUBLE_EQ(o.triggers[0].at, 1.0);
  EXPECT_DOUBLE_EQ(o.triggers[0].release_at, 0.95);  // the default hysteresis
  EXPECT_EQ(o.triggers[1].action, OverloadAction::DisableKeepalive);
  EXPECT_DOUBLE_EQ(o.triggers[1].release_at, 0.5);
  EXPECT_EQ(o.triggers[2].action, OverloadAction::ShedRequests);

  const auto j = toJson(*cfg)["overload"];
  EXPECT_EQ(j["refresh_interval"], "100ms");
  EXPECT_EQ(j["resources"]["heap_bytes"]["max"], 512ull << 20);
  EXPECT_EQ(j["resources"]["downstream_connections"]["max"], 10000u);
  ASSERT_EQ(j["actions"].size(), 3u);
  EXPECT_EQ(j["actions"][1]["name"], "disable_keepalive");
  EXPECT_EQ(j["actions"][1]["when"]["resource"], "heap_bytes");
  EXPECT_DOUBLE_EQ(j["actions"][1]["when"]["release_at"].get<double>(), 0.5);
}

TEST(OverloadConfigTest, ByteSizes) {
  uint64_t v = 0;
  EXPECT_TRUE(parseByteSize("1048576", v));
  EXPECT_EQ(v, 1048576u);
  EXPECT_TRUE(parseByteSize("64Ki", v));
  EXPECT_EQ(v, 64u << 10);
  EXPECT_TRUE(parseByteSize("2Gi", v));
  EXPECT_EQ(v, 2ull << 30);
  EXPECT_TRUE(parseByteSize("1Ti", v));
  EXPECT_EQ(v, 1ull << 40);
  for (const char* bad : {"", "Mi", "12MB", "1.5Gi", "-1", "12 Mi", "99999999999999Ti"})
    EXPECT_FALSE(parseByteSize(bad, v)) << bad;
}

TEST(OverloadConfigTest, ErrorsNameTheField) {
  EXPECT_EQ(errorsOf(R"(overload:
  refresh_interval: 1ms
  resources:
    downstream_connections: {max: 0}
    heap_bytes: {max: 12MB}
    cpu: {max: 1}
  actions:
    - {name: stop_everything, when: {resource: downstream_connections, at: 1.0}}
    - {name: shed_requests, when: {resource: heap_bytes, at: 0.9, release_at: 0.9}}
    - {name: shed_requests, when: {resource: memory, at: 2}}
    - {name: disable_keepalive}
)"),
            (Errors{
                "t.yaml:2:21: overload.refresh_interval: must be at least 10ms",
                "t.yaml:4:35: overload.resources.downstream_connections.max: expected a count greater than 0",
                "t.yaml:5:23: overload.resources.heap_bytes.max: expected a size greater than 0 (bytes, or with Ki, "
                "Mi, Gi, Ti)",
                "t.yaml:6:5: overload.resources: unknown field 'cpu'",
                "t.yaml:8:14: overload.actions[0].name: unknown action 'stop_everything'; expected one of "
                "stop_accepting, disable_keepalive, shed_requests",
                "t.yaml:9:79: overload.actions[1].when.release_at: must be below `at` (the action would never end)",
                "t.yaml:10:46: overload.actions[2].when.resource: unknown resource 'memory'; expected one of "
                "downstream_connections, heap_bytes",
                "t.yaml:10:58: overload.actions[2].when.at: expected a number between 0.01 and 1",
                "t.yaml:11:7: overload.actions[3].when: missing required field",
            }));
}

}  // namespace
}  // namespace sluice::config
