#pragma once
// Clusters, their load assignments, secrets and TLS contexts, both ways
// between the config model and Envoy v3. The listener side
// (xds/listener_translate.h) uses the TLS contexts for its filter chains.
//
// Every *FromEnvoy returns an empty FieldError on success; on failure the
// error names the field below the resource ("circuit_breakers.thresholds[0]
// .priority") and `out` is unspecified.

#include "config/model.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/proto_values.h"

namespace sluice::xds {

namespace envoy_cluster = envoy::config::cluster::v3;
namespace envoy_endpoint = envoy::config::endpoint::v3;
namespace envoy_tls = envoy::extensions::transport_sockets::tls::v3;

// EDS over ADS for the endpoints (service_name = c.load_assignment).
void clusterToEnvoy(const config::ClusterConfig& c, envoy_cluster::Cluster& out);
FieldError clusterFromEnvoy(const envoy_cluster::Cluster& in, config::ClusterConfig& out);

void loadAssignmentToEnvoy(const config::ClusterLoadAssignmentSpec& a, envoy_endpoint::ClusterLoadAssignment& out);
FieldError loadAssignmentFromEnvoy(const envoy_endpoint::ClusterLoadAssignment& in,
                                   config::ClusterLoadAssignmentSpec& out);

void secretToEnvoy(const config::SecretSpec& s, envoy_tls::Secret& out);
FieldError secretFromEnvoy(const envoy_tls::Secret& in, config::SecretSpec& out);

// Secrets named by SDS over ADS.
void downstreamTlsToEnvoy(const config::DownstreamTlsConfig& t, envoy_tls::DownstreamTlsContext& out);
FieldError downstreamTlsFromEnvoy(const envoy_tls::DownstreamTlsContext& in, config::DownstreamTlsConfig& out);
void upstreamTlsToEnvoy(const config::UpstreamTlsConfig& t, envoy_tls::UpstreamTlsContext& out);
FieldError upstreamTlsFromEnvoy(const envoy_tls::UpstreamTlsContext& in, config::UpstreamTlsConfig& out);

}  // namespace sluice::xds
