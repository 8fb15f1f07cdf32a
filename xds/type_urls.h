#pragma once
// The Envoy v3 resource types Sluice serves and reads, by type URL, and the
// order a server sends them in (Envoy's xDS protocol document: a cluster's
// endpoints before the listeners that use it, routes after their listeners,
// so that nothing is referenced before it exists on a proxy that applies
// each response as it comes).

#include <array>
#include <string_view>

namespace sluice::xds {

inline constexpr std::string_view kListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRouteConfigurationType =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kClusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kClusterLoadAssignmentType =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr std::string_view kSecretType =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

// CDS, EDS, LDS, RDS, SDS.
inline constexpr std::array<std::string_view, 5> kSendOrder = {
    kClusterType, kClusterLoadAssignmentType, kListenerType, kRouteConfigurationType, kSecretType};

// "Listener" for kListenerType and so on: for messages and metric labels.
constexpr std::string_view shortTypeName(std::string_view type_url) {
  const auto dot = type_url.rfind('.');
  return dot == std::string_view::npos ? type_url : type_url.substr(dot + 1);
}

// Listener and Cluster responses carry the whole set in state-of-the-world
// (a name left out is a removal); the others only what was asked for.
constexpr bool isFullSetType(std::string_view type_url) {
  return type_url == kListenerType || type_url == kClusterType;
}

}  // namespace sluice::xds
