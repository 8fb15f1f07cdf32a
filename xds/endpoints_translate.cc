// ClusterLoadAssignment, both ways: a cluster's endpoints with their
// priority, locality and weight.

#include <arpa/inet.h>

#include <algorithm>

#include "xds/cluster_translate.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;

// EDS's way of taking an endpoint out of service without removing it.
bool serves(core::HealthStatus s) {
  return s != core::UNHEALTHY && s != core::DRAINING && s != core::TIMEOUT;
}

FieldError addressFromEnvoy(const core::Address& a, const std::string& path, ip::Address& out) {
  if (a.address_case() != core::Address::kSocketAddress)
    return {path, "only socket addresses (IP and port) are supported"};
  const auto& s = a.socket_address();
  const std::string sp = fieldPath(path, "socket_address");
  if (s.protocol() != core::SocketAddress::TCP) return {fieldPath(sp, "protocol"), "only TCP is supported"};
  if (!s.resolver_name().empty()) return {fieldPath(sp, "resolver_name"), "custom resolvers are not supported"};
  if (s.port_specifier_case() == core::SocketAddress::kNamedPort)
    return {fieldPath(sp, "named_port"), "named ports are not supported: give port_value"};
  if (s.port_value() == 0 || s.port_value() > 65535)
    return {fieldPath(sp, "port_value"), "port " + std::to_string(s.port_value()) + " out of range (1 to 65535)"};
  unsigned char buf[16];
  const bool v6 = inet_pton(AF_INET6, s.address().c_str(), buf) == 1;
  if (!v6 && inet_pton(AF_INET, s.address().c_str(), buf) != 1)
    return {fieldPath(sp, "address"), "'" + s.address() + "' is not an IP address (Sluice does not resolve names)"};
  const std::string text = (v6 ? "[" + s.address() + "]" : s.address()) + ":" + std::to_string(s.port_value());
  std::string why;
  auto parsed = ip::Address::parse(text, &why);
  if (!parsed) return {fieldPath(sp, "address"), why};
  out = *parsed;
  return {};
}

}  // namespace

// One LocalityLbEndpoints per priority and locality, priorities from 0 to
// the highest used, in order, localities in the order their first endpoint
// comes. Each has a locality (empty when its endpoints name none) and a
// weight: gRPC clients skip a locality without a weight and reject a missing
// locality or a gap between priorities. The weight is the sum of its
// endpoints' weights, so a client that picks a locality first (gRPC's
// weighted target) still gives each endpoint its share. An empty level (a
// gap) holds no endpoints, which Envoy and Sluice pass over.
void loadAssignmentToEnvoy(const config::ClusterLoadAssignmentSpec& a, envoy_endpoint::ClusterLoadAssignment& out) {
  out.Clear();
  out.set_cluster_name(a.cluster_name);
  if (a.endpoints.empty()) return;
  uint32_t highest = 0;
  for (const auto& e : a.endpoints) highest = std::max(highest, e.priority);
  for (uint32_t p = 0; p <= highest; ++p) {
    std::vector<const config::LocalityConfig*> localities;
    for (const auto& e : a.endpoints)
      if (e.priority == p && std::none_of(localities.begin(), localities.end(),
                                          [&](const config::LocalityConfig* l) { return *l == e.locality; }))
        localities.push_back(&e.locality);
    if (localities.empty()) {
      auto& gap = *out.add_endpoints();
      gap.set_priority(p);
      gap.mutable_locality();
      gap.mutable_load_balancing_weight()->set_value(1);
      continue;
    }
    for (const config::LocalityConfig* l : localities) {
      auto& level = *out.add_endpoints();
      level.set_priority(p);
      auto& loc = *level.mutable_locality();
      loc.set_region(l->region);
      loc.set_zone(l->zone);
      loc.set_sub_zone(l->sub_zone);
      uint32_t weight = 0;
      for (const auto& e : a.endpoints) {
        if (e.priority != p || !(e.locality == *l)) continue;
        auto& lb = *level.add_lb_endpoints();
        auto& sa = *lb.mutable_endpoint()->mutable_address()->mutable_socket_address();
        sa.set_address(e.address.ip());
        sa.set_port_value(e.address.port());
        lb.mutable_load_balancing_weight()->set_value(e.weight);
        weight += e.weight;
      }
      level.mutable_load_balancing_weight()->set_value(weight);
    }
  }
}

void loadAssignmentToEnvoy(const config::ClusterLoadAssignmentSpec& a, uint32_t overprovisioning_factor_percent,
                           envoy_endpoint::ClusterLoadAssignment& out) {
  loadAssignmentToEnvoy(a, out);
  out.mutable_policy()->mutable_overprovisioning_factor()->set_value(overprovisioning_factor_percent);
}

FieldError loadAssignmentFromEnvoy(const envoy_endpoint::ClusterLoadAssignment& in,
                                   config::ClusterLoadAssignmentSpec& out,
                                   std::optional<uint32_t>& overprovisioning_factor_percent) {
  out = config::ClusterLoadAssignmentSpec{};
  overprovisioning_factor_percent.reset();
  if (in.cluster_name().empty()) return {"cluster_name", "missing"};
  out.cluster_name = in.cluster_name();
  if (!in.named_endpoints().empty()) return {"named_endpoints", "not supported"};
  if (in.has_policy()) {
    const auto& p = in.policy();
    if (p.drop_overloads_size() > 0) return {"policy.drop_overloads", "dropping a share of requests is not supported"};
    if (p.has_overprovisioning_factor()) {
      const uint32_t f = p.overprovisioning_factor().value();
      if (f < 100 || f > 1000)
        return {"policy.overprovisioning_factor", std::to_string(f) + " is out of range (100 to 1000)"};
      overprovisioning_factor_percent = f;
    }
  }
  for (int i = 0; i < in.endpoints_size(); ++i) {
    const auto& level = in.endpoints(i);
    const std::string lp = indexPath("endpoints", i);
    if (level.priority() > 127)
      return {fieldPath(lp, "priority"), std::to_string(level.priority()) + " is out of range (0 to 127)"};
    if (level.has_leds_cluster_locality_config())
      return {fieldPath(lp, "leds_cluster_locality_config"), "LEDS is not supported"};
    const bool listed = level.has_load_balancer_endpoints();
    const auto& lbs = listed ? level.load_balancer_endpoints().lb_endpoints() : level.lb_endpoints();
    const std::string lbp = fieldPath(lp, listed ? "load_balancer_endpoints.lb_endpoints" : "lb_endpoints");
    for (int j = 0; j < lbs.size(); ++j) {
      const auto& lb = lbs[j];
      const std::string ep = indexPath(lbp, j);
      if (lb.host_identifier_case() != envoy_endpoint::LbEndpoint::kEndpoint)
        return {ep, "expected an endpoint (named endpoints are not supported)"};
      const auto& endpoint = lb.endpoint();
      if (endpoint.has_health_check_config() &&
          (endpoint.health_check_config().port_value() != 0 || endpoint.health_check_config().has_address()))
        return {fieldPath(ep, "endpoint.health_check_config"),
                "health checks go to the endpoint's own address and port"};
      config::EndpointConfig e;
      e.priority = level.priority();
      e.locality = {level.locality().region(), level.locality().zone(), level.locality().sub_zone()};
      if (!endpoint.has_address()) return {fieldPath(ep, "endpoint.address"), "missing"};
      if (auto err = addressFromEnvoy(endpoint.address(), fieldPath(ep, "endpoint.address"), e.address);
          !err.empty())
        return err;
      if (lb.has_load_balancing_weight()) {
        const uint32_t w = lb.load_balancing_weight().value();
        if (w < 1 || w > 128)
          return {fieldPath(ep, "load_balancing_weight"), std::to_string(w) + " is out of range (1 to 128)"};
        e.weight = w;
      }
      if (serves(lb.health_status())) out.endpoints.push_back(e);
    }
  }
  return {};
}

FieldError loadAssignmentFromEnvoy(const envoy_endpoint::ClusterLoadAssignment& in,
                                   config::ClusterLoadAssignmentSpec& out) {
  std::optional<uint32_t> overprovisioning;
  return loadAssignmentFromEnvoy(in, out, overprovisioning);
}

}  // namespace sluice::xds
