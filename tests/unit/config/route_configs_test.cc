// Route tables as named resources: top-level route_configs, inline tables
// named after their listener (or given a name), route_config_name
// references, and the errors for each misuse with file:line:col and path.
// The listener's canonical form (its identity on reload) names its table
// and leaves the routes out.

#include <gtest/gtest.h>

#include "config/config_json.h"
#include "config/loader.h"
#include "tests/unit/config/load_support.h"
#include "config/route_config.h"
#include "filters/network/http/config.h"

namespace sluice::config {
namespace {

using testing::Errors;
using testing::errorsOf;
using testing::loadOk;

const filters::http_cm::Spec& http(const ListenerConfig& l) {
  return dynamic_cast<const filters::http_cm::Spec&>(*l.filters.at(0).spec);
}

// Raw strings start right after R"( so that line 1 is the first YAML line.
const char* const kShared = R"(listeners:
  - name: a
    address: 127.0.0.1:0
    http: {route_config_name: shared}
  - name: b
    address: 127.0.0.1:0
    http:
      route_config:
        virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c}}]}]
route_configs:
  - name: shared
    virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c}}]}]
clusters:
  - {name: c, endpoints: [{address: 127.0.0.1:1}]}
)";

TEST(RouteConfigsTest, TopLevelTablesAreNamedAndInlineOnesTakeTheListenerName) {
  const LoadResult r = loadString(kShared, "t.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const Config& c = *r.config;
  ASSERT_EQ(c.route_configs.size(), 2u);
  EXPECT_EQ(c.route_configs[0].name, "shared");
  EXPECT_EQ(c.route_configs[0].path, "route_configs[0]");
  EXPECT_EQ(c.route_configs[1].name, "b");
  EXPECT_EQ(c.route_configs[1].path, "listeners[1].http.route_config");
  EXPECT_EQ(http(c.listeners[0]).route_config_name, "shared");
  EXPECT_EQ(http(c.listeners[1]).route_config_name, "b");
  ASSERT_TRUE(c.findRouteConfig("shared"));
  EXPECT_EQ(c.findRouteConfig("shared")->spec->virtual_hosts.at(0).name, "v");
  // The dump lists every table once, at the top level.
  const auto j = toJson(c);
  ASSERT_EQ(j["route_configs"].size(), 2u);
  EXPECT_EQ(j["route_configs"][1]["name"], "b");
}

TEST(RouteConfigsTest, AListenersIdentityLeavesItsRoutesOut) {
  std::string changed = kShared;
  const std::string from = "routes: [{match: {prefix: /}, route: {cluster: c}}]}]\nroute_configs";
  const size_t at = changed.find(from);
  ASSERT_NE(at, std::string::npos);
  changed.replace(at, from.size(), "routes: [{match: {prefix: /x}, route: {cluster: c}}]}]\nroute_configs");
  const LoadResult before = loadString(kShared, "t.yaml");
  const LoadResult after = loadString(changed, "t.yaml");
  ASSERT_TRUE(before.config && after.config) << before.errorText() << after.errorText();
  EXPECT_EQ(toJson(before.config->listeners[1]), toJson(after.config->listeners[1]))
      << "a route-only change must leave the listener unchanged (no rebind, no drain)";
  EXPECT_NE(toJson(*before.config)["route_configs"], toJson(*after.config)["route_configs"]);
}

TEST(RouteConfigsTest, InlineTablesInFilterChainsAreNamedPerChain) {
  const LoadResult r = loadString(R"(listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - match: {server_names: [a.example]}
        http: {route_config: {virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]}}
      - http: {route_config: {virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]}}
)",
                                  "t.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  ASSERT_EQ(r.config->route_configs.size(), 2u);
  EXPECT_EQ(r.config->route_configs[0].name, "l.0");
  EXPECT_EQ(r.config->route_configs[1].name, "l.1");
}

TEST(RouteConfigsTest, MisusesAreErrorsWithTheirPlace) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:0
    http: {route_config_name: nope}
)"),
            (Errors{"t.yaml:4:31: listeners[0].http.route_config_name: unknown route config 'nope'"}));

  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:0
    http:
      route_config_name: x
      route_config: {name: x, virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]}
)"),
            (Errors{"t.yaml:5:26: listeners[0].http.route_config_name: give route_config or route_config_name, not both"}));

  EXPECT_EQ(errorsOf(R"(route_configs:
  - name: a
    virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]
listeners:
  - name: a
    address: 127.0.0.1:0
    http: {route_config: {virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]}}
)"),
            (Errors{"t.yaml:7:26: listeners[0].http.route_config.name: duplicate route config name 'a' (first in "
                    "route_configs[0]); give it a name: of its own"}));

  EXPECT_EQ(errorsOf(R"(route_configs:
  - name: bad/name
    virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: missing}}]}]
)"),
            (Errors{"t.yaml:2:11: route_configs[0].name: invalid name 'bad/name': use [A-Za-z0-9_.-]+",
                    "t.yaml:3:94: route_configs[0].virtual_hosts[0].routes[0].route.cluster: unknown cluster 'missing'"}));

  EXPECT_EQ(errorsOf(R"(listeners:
  - name: a
    address: 127.0.0.1:0
    http: {}
)"),
            (Errors{"t.yaml:4:11: listeners[0].http.route_config: missing required field (or route_config_name)"}));
}

TEST(RouteConfigsTest, ASharedTablesErrorsAreReportedOnce) {
  EXPECT_EQ(errorsOf(R"(listeners:
  - {name: a, address: 127.0.0.1:0, http: {route_config_name: s}}
  - {name: b, address: 127.0.0.1:0, http: {route_config_name: s}}
route_configs:
  - name: s
    virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: missing}}]}]
)"),
            (Errors{"t.yaml:6:94: route_configs[0].virtual_hosts[0].routes[0].route.cluster: unknown cluster 'missing'"}));
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

// The switch between a file (every missing reference an error) and
// resources that arrive one at a time (xDS: a warning, the data path
// answers 503 NC / 404 NR until the target arrives).
TEST(RouteConfigsTest, MissingReferencesAreErrorsInAFileAndWarningsWhenServingPiecemeal) {
  const std::string yaml = R"(listeners:
  - name: a
    address: 127.0.0.1:0
    http: {route_config_name: later}
  - name: b
    address: 127.0.0.1:0
    tcp_proxy: {cluster: later}
route_configs:
  - name: r
    virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: later}}]}]
)";
  const LoadResult strict = loadString(yaml, "t.yaml");
  EXPECT_FALSE(strict.config);
  EXPECT_EQ(strict.errors.size(), 3u) << strict.errorText();

  const LoadResult lenient = loadString(yaml, "t.yaml", References::WarnAndServe);
  ASSERT_TRUE(lenient.config) << lenient.errorText();
  Errors warnings;
  for (const auto& w : lenient.warnings) warnings.push_back(w.str());
  EXPECT_EQ(warnings.size(), 3u);
  for (const char* what : {"unknown route config 'later'", "unknown cluster 'later'"}) {
    bool found = false;
    for (const auto& w : warnings) found = found || w.find(what) != std::string::npos;
    EXPECT_TRUE(found) << what;
  }
  // Anything else is still an error.
  const LoadResult bad = loadString(yaml + "bogus: 1\n", "t.yaml", References::WarnAndServe);
  EXPECT_FALSE(bad.config);
}

}  // namespace
}  // namespace sluice::config
