#pragma once
// Envoy v3 resources read into the config model: what sluice's ADS client
// does with what a server sends (the inverse of xds/to_envoy.h, and it takes
// any v3 server's resources, not only sluice-control's).
//
// Each resource is translated on its own; one using a field or an extension
// Sluice does not implement, or holding a value that fails validation, is
// rejected with a message that names the resource and the field, e.g.
//   Listener 'web': filter_chains[0].filters[0].typed_config: unsupported
//   network filter type envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
// which the ADS client sends back as the NACK's error_detail. Fields that
// change nothing in what Sluice does (stat prefixes, metadata) are ignored.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "config/model.h"

namespace sluice::xds {

// Resources of one type by name, as received.
using ResourceMap = std::map<std::string, google::protobuf::Any, std::less<>>;

// What an ADS stream holds at a moment, by type.
struct ReceivedResources {
  ResourceMap listeners;
  ResourceMap route_configs;
  ResourceMap clusters;
  ResourceMap load_assignments;
  ResourceMap secrets;
};

struct AssembleResult {
  // The whole config, validated under References::WarnAndServe; null when
  // any resource was rejected.
  std::shared_ptr<const config::Config> config;
  // One per rejected resource: "<Type> '<name>': <field path>: <what>".
  std::vector<std::string> errors;
  // References to resources not (yet) received: served as 503 NC / 404 NR.
  std::vector<std::string> warnings;
};

// `base` holds the bootstrap and any static resources (the bootstrap file's
// own listeners and clusters), which the received ones join; a received
// resource named like a static one is an error. The result keeps
// base.bootstrap.
AssembleResult assemble(const config::Config& base, const ReceivedResources& received);

// Translates one resource alone (for a NACK naming just the bad ones, and
// for the fuzz target): empty when it is acceptable on its own, else the
// error as in AssembleResult::errors. `type_url` is one of xds/type_urls.h.
std::string checkResource(std::string_view type_url, const google::protobuf::Any& resource);

}  // namespace sluice::xds
