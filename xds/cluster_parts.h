#pragma once
// The pieces of a Cluster, each translated both ways in a file of its own
// (cluster_health_translate.cc, cluster_breakers_translate.cc,
// cluster_protocol_translate.cc); clusterToEnvoy / clusterFromEnvoy put them
// together. `path` arguments are the piece's field path in the Cluster.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/wrappers.pb.h>

#include <string>

#include "config/model.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"
#include "xds/cluster_metadata.h"
#include "xds/proto_values.h"

namespace sluice::xds {

void healthCheckToEnvoy(const config::HealthCheckConfig& h, envoy::config::core::v3::HealthCheck& out);
FieldError healthCheckFromEnvoy(const envoy::config::core::v3::HealthCheck& in, const std::string& path,
                                config::HealthCheckConfig& out);

// `sluice` is the io.sluice "outlier_detection" Struct.
void outlierDetectionToEnvoy(const config::OutlierDetectionConfig& o,
                             envoy::config::cluster::v3::OutlierDetection& out, google::protobuf::Struct& sluice);
FieldError outlierDetectionFromEnvoy(const envoy::config::cluster::v3::OutlierDetection& in, const std::string& path,
                                     const StructFields& sluice, config::OutlierDetectionConfig& out);

void circuitBreakersToEnvoy(const config::ClusterConfig& c, envoy::config::cluster::v3::CircuitBreakers& out);
FieldError circuitBreakersFromEnvoy(const envoy::config::cluster::v3::CircuitBreakers& in, const std::string& path,
                                    config::ClusterConfig& out);

// typed_extension_protocol_options' HttpProtocolOptions (protocol, HTTP/2
// settings, idle_timeout); `sluice` is the io.sluice "http2" Struct.
void protocolToEnvoy(const config::ClusterConfig& c, envoy::config::cluster::v3::Cluster& out,
                     google::protobuf::Struct& sluice);
FieldError protocolFromEnvoy(const envoy::config::cluster::v3::Cluster& in, const StructFields& sluice,
                             config::ClusterConfig& out);

// A limit the model holds in [min, max]: above max is
// max (Envoy's "no limit" is 4294967295); below min is an error.
FieldError limitFromEnvoy(uint64_t v, const std::string& path, uint32_t& out, uint32_t min, uint32_t max);
// A value the model holds in [min, max]; outside is an error.
FieldError rangeFromEnvoy(uint64_t v, const std::string& path, uint32_t& out, uint32_t min, uint32_t max);
// A duration greater than 0 (millisecond precision).
FieldError positiveDurationFromEnvoy(const google::protobuf::Duration& d, const std::string& path,
                                     config::Duration& out);

}  // namespace sluice::xds
