#pragma once
// Clusters, their load assignments, secrets and TLS contexts, both ways
// between the config model and Envoy v3. The listener side
// (xds/listener_translate.h) uses the TLS contexts for its filter chains.
//
// Every *FromEnvoy returns an empty FieldError on success; on failure the
// error names the field below the resource ("circuit_breakers.thresholds[0]
// .priority") and `out` is unspecified. A field that would change what the
// proxy does and that Sluice cannot do is rejected, never dropped (above all
// a certificate check); fields that only name, count or log are ignored.
// Also ignored, as tuning that changes no outcome Sluice promises: slow
// start, locality and zone-aware settings, ring hash functions, the HIGH
// priority's max_connections (Sluice's connections serve both priorities),
// max_requests_per_connection, per_connection_buffer_limit_bytes, health
// check cadence variants (initial_jitter, interval_jitter_percent,
// unhealthy_interval, *_edge_interval, reuse_connection, tls_options), outlier
// ejection jitter and local-origin counters (without the split), EDS
// endpoint_stale_after, and options under typed_extension_protocol_options
// keys other than HttpProtocolOptions'.
//
// Values Envoy has no field for. Sluice-only cluster values travel in the
// cluster's metadata.filter_metadata["io.sluice"], a Struct that both sides
// of Sluice read and every other client ignores. Its keys, as in the YAML:
//   overprovisioning_factor   percent (see "Overprovisioning" below)
//   max_pending_requests      the per-host pool queue
//   hash_policy               [{header: h} | {cookie: c} | {query_parameter: q} | {source_ip: true}]
//                             (Envoy keeps hash policies on routes)
//   outlier_detection         {half_open_max_requests, stdev_factor (only when
//                             not a whole number of thousandths)}
//   http2                     {max_frame_size, max_stream_resets_per_second,
//                             max_stream_resets_burst, keepalive_timeout_ms
//                             (only without a keepalive interval)}
// Only the chosen policy's lb settings are written (a round_robin cluster's
// ring sizes mean nothing and come back as defaults).
// A resource from another server has no such Struct: those values take the
// model's defaults. A key of the Struct that Sluice does not know is an error
// (a newer sluice-control's value this one would silently drop).
//
// Overprovisioning. The model keeps it on the cluster; Envoy keeps it in the
// ClusterLoadAssignment's policy.overprovisioning_factor. Both are written:
// the cluster's io.sluice value (read back exactly by Sluice), and the policy
// of the load assignment made with the cluster's factor (for Envoy). On the
// way in, a load assignment's policy value, when present, is returned beside
// it and wins over the cluster's for every cluster using that assignment
// (the aggregator applies it); a STATIC cluster's inline one applies to the
// cluster directly, unless io.sluice says otherwise.
//
// Defaults on the way in. A field Envoy gives a default that changes the
// proxy's behaviour takes Envoy's meaning: no retry_budget is the static
// max_retries; outlier detection's gateway-failure and failure-percentage
// detectors are off and success-rate on unless their enforcing_* says
// otherwise; an HTTP check expects 200 only; no_traffic_interval is 60s; an
// upstream idle_timeout is 1h. Tuning values Envoy sizes for a different
// design (HTTP/2 windows and stream limits) take the model's defaults.
// Limits above the model's range (Envoy configs use 4294967295 for "no
// limit") become the model's maximum, which no proxy reaches; values below
// it are errors.
//
// Endpoints. IP addresses only (no DNS). Endpoints whose health_status is
// UNHEALTHY, DRAINING or TIMEOUT are left out (EDS's way of removing them
// from service); DEGRADED and UNKNOWN ones serve. Locality weights and the
// locality itself are ignored: Sluice balances over endpoints by their own
// weight within a priority. Written, each priority from 0 to the highest is
// one LocalityLbEndpoints with an empty locality and weight 1 (what gRPC
// clients need), so endpoints come back grouped by priority.
//
// TLS. Secrets are named for SDS over ADS (sds_config {ads {}}); read, no
// sds_config (Envoy's "a secret of the bootstrap") is a name too, looked up
// among static and received secrets alike; inline certificates and keys,
// and SDS from any other source, are rejected. SAN
// checks are Envoy's match_typed_subject_alt_names: verify_subject_alt_names
// as exact DNS / URI / IP matchers, verify_spiffe_ids as exact URI matchers
// or, for "spiffe://td/path/*", URI prefix "spiffe://td/path/". An exact
// spiffe:// URI reads back as a verify_spiffe_ids entry (the same check).
// Upstream, Sluice checks the server's certificate against the SNI when no
// SAN or SPIFFE check is given; Envoy is told so with a matcher for the SNI,
// and a context whose only check is its SNI reads back as none.
// Downstream handshake_timeout has no field in DownstreamTlsContext: it is the
// filter chain's transport_socket_connect_timeout, which the listener side
// writes and reads; downstreamTlsFromEnvoy leaves the model's default.
// TLS versions and cipher suites (tls_params) are not in the model and are
// ignored.

#include <cstdint>
#include <optional>
#include <string_view>

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

// The filter_metadata key of Sluice-only values (also used by the listener side).
inline constexpr std::string_view kSluiceMetadataKey = "io.sluice";

// EDS over ADS for the endpoints (service_name = c.load_assignment).
void clusterToEnvoy(const config::ClusterConfig& c, envoy_cluster::Cluster& out);
// Takes EDS clusters (endpoints over ADS or `self`) and STATIC ones, whose
// inline load_assignment comes back in `inline_endpoints` named like the
// cluster (out.load_assignment is the cluster's name); unset for EDS.
FieldError clusterFromEnvoy(const envoy_cluster::Cluster& in, config::ClusterConfig& out,
                            std::optional<config::ClusterLoadAssignmentSpec>& inline_endpoints);
// For checking a cluster alone: as above, a STATIC cluster's endpoints are
// checked and dropped.
FieldError clusterFromEnvoy(const envoy_cluster::Cluster& in, config::ClusterConfig& out);

// policy.overprovisioning_factor is written only with the overload that
// takes it (the cluster's value; 140, Envoy's default, is written too).
void loadAssignmentToEnvoy(const config::ClusterLoadAssignmentSpec& a, envoy_endpoint::ClusterLoadAssignment& out);
void loadAssignmentToEnvoy(const config::ClusterLoadAssignmentSpec& a, uint32_t overprovisioning_factor_percent,
                           envoy_endpoint::ClusterLoadAssignment& out);
FieldError loadAssignmentFromEnvoy(const envoy_endpoint::ClusterLoadAssignment& in,
                                   config::ClusterLoadAssignmentSpec& out);
// Also returns policy.overprovisioning_factor when the resource sets it.
FieldError loadAssignmentFromEnvoy(const envoy_endpoint::ClusterLoadAssignment& in,
                                   config::ClusterLoadAssignmentSpec& out,
                                   std::optional<uint32_t>& overprovisioning_factor_percent);

void secretToEnvoy(const config::SecretSpec& s, envoy_tls::Secret& out);
FieldError secretFromEnvoy(const envoy_tls::Secret& in, config::SecretSpec& out);

// Secrets named by SDS over ADS.
void downstreamTlsToEnvoy(const config::DownstreamTlsConfig& t, envoy_tls::DownstreamTlsContext& out);
FieldError downstreamTlsFromEnvoy(const envoy_tls::DownstreamTlsContext& in, config::DownstreamTlsConfig& out);
void upstreamTlsToEnvoy(const config::UpstreamTlsConfig& t, envoy_tls::UpstreamTlsContext& out);
FieldError upstreamTlsFromEnvoy(const envoy_tls::UpstreamTlsContext& in, config::UpstreamTlsConfig& out);

}  // namespace sluice::xds
