// Group snapshots from control.yaml: content-hash versions that hold across
// identical rebuilds, change only for the type an edit touched, a
// proxyless client's listener made on demand, and unchanged groups left
// alone on reload.

#include "control/snapshot_builder.h"

#include <gtest/gtest.h>

#include <google/protobuf/struct.pb.h>

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "xds/type_urls.h"

namespace sluice::control {
namespace {

namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;

const char* const kYaml = R"(groups:
  - name: edge
    match: {cluster: edge}
    listeners:
      - name: edge
        address: 127.0.0.1:10000
        http:
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                  - match: {prefix: /}
                    route: {cluster: backend}
    clusters:
      - name: backend
        lb_policy: round_robin
        endpoints:
          - address: 127.0.0.1:18091
          - address: 127.0.0.1:18092
  - name: grpc
    match: {cluster: grpc}
    route_configs:
      - name: echo-routes
        virtual_hosts:
          - name: echo
            domains: [echo]
            routes:
              - match: {prefix: /}
                route: {cluster: echo}
    clusters:
      - name: echo
        protocol: http2
        endpoints:
          - address: 127.0.0.1:18090
)";

std::shared_ptr<const ControlConfig> load(const std::string& yaml) {
  const ControlLoadResult r = loadControlString(yaml, "control.yaml");
  EXPECT_TRUE(r.config) << r.errorText();
  return r.config;
}

std::string edited(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::map<std::string, std::string> typeVersions(const GroupSnapshot& s) {
  std::map<std::string, std::string> out;
  for (const auto& [type, t] : s.types) out[type] = t.version;
  return out;
}

TEST(SnapshotBuilderTest, HoldsEveryTypeWithResourcesByName) {
  const auto cfg = load(kYaml);
  ASSERT_TRUE(cfg);
  const auto snap = buildSnapshot("edge", cfg->groups[0].config);
  EXPECT_EQ(snap->group, "edge");
  for (std::string_view type : xds::kSendOrder) ASSERT_TRUE(snap->find(type)) << type;
  EXPECT_EQ(snap->find(xds::kListenerType)->resources.count("edge"), 1u);
  EXPECT_EQ(snap->find(xds::kClusterType)->resources.count("backend"), 1u);
  EXPECT_EQ(snap->find(xds::kClusterLoadAssignmentType)->resources.count("backend"), 1u);
  EXPECT_EQ(snap->find(xds::kRouteConfigurationType)->resources.size(), 1u);
  // A type with nothing in it is there, empty, with a version of its own.
  EXPECT_TRUE(snap->find(xds::kSecretType)->resources.empty());
  EXPECT_EQ(snap->find(xds::kSecretType)->version.size(), 12u);
  for (const auto& [type, t] : snap->types)
    for (const auto& [name, e] : t.resources) {
      EXPECT_EQ(e.body.type_url(), type);
      EXPECT_EQ(e.version, contentVersion(e.body.value()));
    }
}

TEST(SnapshotBuilderTest, VersionsAreStableAcrossIdenticalRebuilds) {
  const auto a = load(kYaml), b = load("# same content, another load\n" + std::string(kYaml));
  ASSERT_TRUE(a && b);
  for (size_t g = 0; g < 2; ++g) {
    const auto first = buildSnapshot(a->groups[g].name, a->groups[g].config);
    const auto second = buildSnapshot(b->groups[g].name, b->groups[g].config);
    EXPECT_EQ(typeVersions(*first), typeVersions(*second));
    for (const auto& [type, t] : first->types) {
      const TypeSnapshot* other = second->find(type);
      ASSERT_TRUE(other);
      ASSERT_EQ(t.resources.size(), other->resources.size());
      for (const auto& [name, e] : t.resources) {
        ASSERT_EQ(other->resources.count(name), 1u) << name;
        EXPECT_EQ(e.version, other->resources.at(name).version) << name;
        EXPECT_EQ(e.body.value(), other->resources.at(name).body.value()) << name;
      }
    }
  }
}

TEST(SnapshotBuilderTest, ARouteEditChangesOnlyTheRouteTypesVersion) {
  const auto before = load(kYaml);
  const auto after = load(edited(kYaml, "- match: {prefix: /}\n                    route: {cluster: backend}",
                                 "- match: {prefix: /api}\n                    route: {cluster: backend}"));
  ASSERT_TRUE(before && after);
  const auto v1 = typeVersions(*buildSnapshot("edge", before->groups[0].config));
  const auto v2 = typeVersions(*buildSnapshot("edge", after->groups[0].config));
  EXPECT_NE(v1.at(std::string(xds::kRouteConfigurationType)), v2.at(std::string(xds::kRouteConfigurationType)));
  for (std::string_view type : {xds::kListenerType, xds::kClusterType, xds::kClusterLoadAssignmentType, xds::kSecretType})
    EXPECT_EQ(v1.at(std::string(type)), v2.at(std::string(type))) << type;
}

TEST(SnapshotBuilderTest, AnEndpointEditChangesOnlyTheEndpointsVersion) {
  const auto before = load(kYaml);
  const auto after = load(edited(kYaml, "127.0.0.1:18092", "127.0.0.1:18093"));
  ASSERT_TRUE(before && after);
  const auto v1 = typeVersions(*buildSnapshot("edge", before->groups[0].config));
  const auto v2 = typeVersions(*buildSnapshot("edge", after->groups[0].config));
  EXPECT_NE(v1.at(std::string(xds::kClusterLoadAssignmentType)), v2.at(std::string(xds::kClusterLoadAssignmentType)));
  for (std::string_view type : {xds::kListenerType, xds::kClusterType, xds::kRouteConfigurationType})
    EXPECT_EQ(v1.at(std::string(type)), v2.at(std::string(type))) << type;
}

TEST(SnapshotBuilderTest, ProxylessListenerIsMadeOnDemandFromTheGroupsRoutes) {
  const auto cfg = load(kYaml);
  ASSERT_TRUE(cfg);
  const auto snap = buildSnapshot("grpc", cfg->groups[1].config);
  EXPECT_TRUE(snap->find(xds::kListenerType)->resources.empty());
  ASSERT_TRUE(snap->on_demand_listener);
  for (const std::string name : {"echo", "echo:50051"}) {
    const auto l = snap->on_demand_listener(name);
    ASSERT_TRUE(l) << name;
    EXPECT_EQ(l->name, name);
    envoy::config::listener::v3::Listener listener;
    ASSERT_TRUE(l->body.UnpackTo(&listener));
    EXPECT_EQ(listener.name(), name);
    ASSERT_TRUE(listener.has_api_listener());
    hcm_v3::HttpConnectionManager hcm;
    ASSERT_TRUE(listener.api_listener().api_listener().UnpackTo(&hcm));
    EXPECT_EQ(hcm.rds().route_config_name(), "echo-routes");
    EXPECT_TRUE(hcm.rds().config_source().has_ads());
    ASSERT_GT(hcm.http_filters_size(), 0);
    EXPECT_EQ(hcm.http_filters(hcm.http_filters_size() - 1).name(), "envoy.filters.http.router");
    // The same name gives the same bytes: a proxy asking again is not pushed anything new.
    EXPECT_EQ(snap->on_demand_listener(name)->body.value(), l->body.value());
  }
  EXPECT_FALSE(snap->on_demand_listener("other"));
  EXPECT_TRUE(snap->find(xds::kRouteConfigurationType)->resources.count("echo-routes"));
}

TEST(SnapshotBuilderTest, AGroupWithoutRouteTablesHasNoOnDemandListener) {
  const auto cfg = load("groups:\n  - name: l4\n    match: {cluster: l4}\n"
                        "    clusters: [{name: c, endpoints: [{address: 127.0.0.1:1}]}]\n");
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(buildSnapshot("l4", cfg->groups[0].config)->on_demand_listener);
}

TEST(SnapshotBuilderTest, ReloadRebuildsOnlyChangedGroupsAndEmptiesRemovedOnes) {
  SnapshotBuilder builder;
  const auto first = builder.update(*load(kYaml));
  ASSERT_EQ(first.changed.size(), 2u);
  EXPECT_EQ(builder.builds(), 2u);

  // The same content: nothing rebuilt, nothing to publish, the same snapshots.
  const auto same = builder.update(*load("# comment\n" + std::string(kYaml)));
  EXPECT_TRUE(same.changed.empty());
  EXPECT_EQ(builder.builds(), 2u);
  EXPECT_EQ(same.all.at("edge"), first.all.at("edge"));

  // An edit of the grpc group rebuilds that group alone.
  const auto edit = builder.update(*load(edited(kYaml, "127.0.0.1:18090", "127.0.0.1:18099")));
  ASSERT_EQ(edit.changed.size(), 1u);
  EXPECT_EQ(edit.changed[0]->group, "grpc");
  EXPECT_EQ(builder.builds(), 3u);
  EXPECT_EQ(edit.all.at("edge"), first.all.at("edge"));
  EXPECT_NE(edit.all.at("grpc"), first.all.at("grpc"));

  // The grpc group removed: it is published empty, so its proxies drop what it served.
  const std::string only_edge = std::string(kYaml).substr(0, std::string(kYaml).find("  - name: grpc"));
  const auto removed = builder.update(*load(only_edge));
  ASSERT_EQ(removed.changed.size(), 1u);
  EXPECT_EQ(removed.changed[0]->group, "grpc");
  for (std::string_view type : xds::kSendOrder) {
    ASSERT_TRUE(removed.changed[0]->find(type));
    EXPECT_TRUE(removed.changed[0]->find(type)->resources.empty());
  }
  EXPECT_FALSE(removed.changed[0]->on_demand_listener);
  EXPECT_EQ(removed.all.count("grpc"), 0u);
}

TEST(SnapshotBuilderTest, CanonicalBytesDoNotDependOnMapOrder) {
  // The same Struct built in two insertion orders, nested inside an Any
  // inside another Any: equal content must be equal bytes, hence equal versions.
  auto build = [](bool reverse) {
    google::protobuf::Struct inner;
    for (int i = 0; i < 64; ++i) {
      const int k = reverse ? 63 - i : i;
      (*inner.mutable_fields())["key" + std::to_string(k)].set_number_value(k);
    }
    envoy::config::route::v3::RouteConfiguration rc;
    rc.set_name("r");
    auto* vh = rc.add_virtual_hosts();
    vh->set_name("v");
    for (int i = 0; i < 16; ++i) {
      const int k = reverse ? 15 - i : i;
      (*vh->mutable_typed_per_filter_config())["filter" + std::to_string(k)].PackFrom(inner);
    }
    google::protobuf::Any any;
    any.PackFrom(rc);
    canonicalize(any);
    return any;
  };
  const auto a = build(false), b = build(true);
  EXPECT_EQ(a.value(), b.value());
  EXPECT_EQ(contentVersion(a.value()), contentVersion(b.value()));
  // And canonical bytes still parse to the same message.
  envoy::config::route::v3::RouteConfiguration back;
  ASSERT_TRUE(a.UnpackTo(&back));
  EXPECT_EQ(back.virtual_hosts(0).typed_per_filter_config().size(), 16u);
}

TEST(SnapshotBuilderTest, ContentVersionIsShortStableAndSensitive) {
  EXPECT_EQ(contentVersion("abc"), contentVersion("abc"));
  EXPECT_EQ(contentVersion("abc").size(), 12u);
  EXPECT_NE(contentVersion("abc"), contentVersion("abd"));
  EXPECT_NE(contentVersion(""), contentVersion(std::string(1, '\0')));
}

}  // namespace
}  // namespace sluice::control
