// libFuzzer target: the xDS translation (xds/from_envoy.h) fed what an ADS
// stream delivers: a serialized envoy.service.discovery.v3.DiscoveryResponse
// from whatever server the proxy is pointed at.
//
// Properties:
// - checkResource() and assemble() return, never throw or crash, whatever
//   the bytes inside the resources' Any (wrong types, absurd values, deep
//   nesting);
// - assemble() gives a config or errors, never both, never neither;
// - every error names the resource: "<Type> '<name>': ...";
// - an unknown resource type is never accepted.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <google/protobuf/unknown_field_set.h>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/from_envoy.h"
#include "xds/type_urls.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Field 1 of every resource type we take is its name (cluster_name for a
// ClusterLoadAssignment): read it without knowing the type, as a client
// keys what it receives.
std::string nameOf(const google::protobuf::Any& any) {
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(any.value())) return {};
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& f = fields.field(i);
    if (f.number() == 1 && f.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
      return f.length_delimited();
  }
  return {};
}

sluice::xds::ResourceMap* mapFor(sluice::xds::ReceivedResources& r, std::string_view type_url) {
  if (type_url == sluice::xds::kListenerType) return &r.listeners;
  if (type_url == sluice::xds::kRouteConfigurationType) return &r.route_configs;
  if (type_url == sluice::xds::kClusterType) return &r.clusters;
  if (type_url == sluice::xds::kClusterLoadAssignmentType) return &r.load_assignments;
  if (type_url == sluice::xds::kSecretType) return &r.secrets;
  return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  envoy::service::discovery::v3::DiscoveryResponse response;
  if (!response.ParseFromArray(data, static_cast<int>(size))) return 0;
  sluice::xds::ReceivedResources received;
  for (const auto& any : response.resources()) {
    // A resource's own type_url decides; the response's may disagree (a
    // server bug the client must survive).
    sluice::xds::ResourceMap* map = mapFor(received, any.type_url());
    const std::string error = sluice::xds::checkResource(any.type_url(), any);
    if (map == nullptr) {
      check(!error.empty());  // an unknown type is never accepted
      continue;
    }
    (*map)[nameOf(any)] = any;
  }
  sluice::config::Config base;
  const sluice::xds::AssembleResult r = sluice::xds::assemble(base, received);
  for (const auto& e : r.errors) {
    if (e.find(" '") == std::string::npos || e.find("': ") == std::string::npos) {
      std::fprintf(stderr, "error does not name its resource: %s\n", e.c_str());
      std::abort();
    }
  }
  if ((r.config == nullptr) == r.errors.empty()) {
    std::fprintf(stderr, "config and errors disagree: %zu errors\n", r.errors.size());
    std::abort();
  }
  return 0;
}
