// Circuit breakers of a cluster, both ways: Envoy's thresholds by routing
// priority (DEFAULT = the model's `normal`, HIGH = `high`) and its per-host
// max_connections.

#include <cmath>

#include "xds/cluster_parts.h"

namespace sluice::xds {
namespace {

namespace core = envoy::config::core::v3;
namespace cluster = envoy::config::cluster::v3;

constexpr uint32_t kMaxLimit = 1u << 30;        // config/cluster_reader.cc
constexpr uint32_t kMaxPerHostLimit = 1u << 20;

void thresholdsToEnvoy(const config::CircuitBreakerThresholds& t, uint32_t max_connections,
                       cluster::CircuitBreakers::Thresholds& out) {
  out.mutable_max_connections()->set_value(max_connections);
  out.mutable_max_pending_requests()->set_value(t.max_pending_requests);
  out.mutable_max_requests()->set_value(t.max_requests);
  out.mutable_max_retries()->set_value(t.max_retries);
  if (t.retry_budget) {
    out.mutable_retry_budget()->mutable_budget_percent()->set_value(t.retry_budget->budget_percent);
    out.mutable_retry_budget()->mutable_min_retry_concurrency()->set_value(t.retry_budget->min_retry_concurrency);
  }
}

FieldError thresholdsFromEnvoy(const cluster::CircuitBreakers::Thresholds& in, const std::string& path,
                               bool with_connections, config::CircuitBreakerThresholds& out) {
  auto p = [&](std::string_view f) { return fieldPath(path, f); };
  // Connections are shared by both priorities in Sluice: HIGH's
  // max_connections has nothing to limit and is ignored.
  if (with_connections && in.has_max_connections())
    if (auto e = limitFromEnvoy(in.max_connections().value(), p("max_connections"), out.max_connections, 1, kMaxLimit);
        !e.empty())
      return e;
  if (in.has_max_pending_requests())
    if (auto e = limitFromEnvoy(in.max_pending_requests().value(), p("max_pending_requests"), out.max_pending_requests,
                                1, kMaxLimit);
        !e.empty())
      return e;
  if (in.has_max_requests())
    if (auto e = limitFromEnvoy(in.max_requests().value(), p("max_requests"), out.max_requests, 1, kMaxLimit);
        !e.empty())
      return e;
  if (in.has_max_retries())
    if (auto e = limitFromEnvoy(in.max_retries().value(), p("max_retries"), out.max_retries, 0, kMaxLimit); !e.empty())
      return e;
  if (in.has_max_connection_pools())
    return {p("max_connection_pools"), "a limit on connection pools is not supported"};
  // Without a budget, Envoy limits retries by max_retries alone; so does the model.
  out.retry_budget.reset();
  if (in.has_retry_budget()) {
    config::RetryBudget b;
    const auto& rb = in.retry_budget();
    if (rb.has_budget_percent()) {
      const double v = rb.budget_percent().value();
      if (!(v >= 0 && v <= 100) || v != std::floor(v))
        return {p("retry_budget.budget_percent"), "expected a whole percent from 0 to 100, got " + numberText(v)};
      b.budget_percent = static_cast<uint32_t>(v);
    }
    if (rb.has_min_retry_concurrency())
      if (auto e = limitFromEnvoy(rb.min_retry_concurrency().value(), p("retry_budget.min_retry_concurrency"),
                                  b.min_retry_concurrency, 0, kMaxLimit);
          !e.empty())
        return e;
    out.retry_budget = b;
  }
  return {};
}

}  // namespace

void circuitBreakersToEnvoy(const config::ClusterConfig& c, cluster::CircuitBreakers& out) {
  auto& normal = *out.add_thresholds();
  normal.set_priority(core::DEFAULT);
  thresholdsToEnvoy(c.circuit_breakers.normal, c.circuit_breakers.normal.max_connections, normal);
  // HIGH gets the shared connection limit: what Sluice enforces for both.
  auto& high = *out.add_thresholds();
  high.set_priority(core::HIGH);
  thresholdsToEnvoy(c.circuit_breakers.high, c.circuit_breakers.normal.max_connections, high);
  auto& per_host = *out.add_per_host_thresholds();
  per_host.set_priority(core::DEFAULT);
  per_host.mutable_max_connections()->set_value(c.max_connections_per_host);
}

FieldError circuitBreakersFromEnvoy(const cluster::CircuitBreakers& in, const std::string& path,
                                    config::ClusterConfig& out) {
  bool seen[2] = {false, false};
  for (int i = 0; i < in.thresholds_size(); ++i) {
    const auto& t = in.thresholds(i);
    const std::string tp = indexPath(fieldPath(path, "thresholds"), i);
    if (t.priority() != core::DEFAULT && t.priority() != core::HIGH)
      return {fieldPath(tp, "priority"), "unknown routing priority " + std::to_string(t.priority())};
    const bool high = t.priority() == core::HIGH;
    if (seen[high]) return {fieldPath(tp, "priority"), std::string("a second ") + (high ? "HIGH" : "DEFAULT") +
                                                           " entry (one per priority)"};
    seen[high] = true;
    auto& dst = high ? out.circuit_breakers.high : out.circuit_breakers.normal;
    if (auto e = thresholdsFromEnvoy(t, tp, /*with_connections=*/!high, dst); !e.empty()) return e;
  }
  for (int i = 0; i < in.per_host_thresholds_size(); ++i) {
    const auto& t = in.per_host_thresholds(i);
    const std::string tp = indexPath(fieldPath(path, "per_host_thresholds"), i);
    if (t.priority() != core::DEFAULT)
      return {fieldPath(tp, "priority"), "Sluice has one per-host limit, for the DEFAULT priority"};
    if (t.has_max_connections())
      if (auto e = limitFromEnvoy(t.max_connections().value(), fieldPath(tp, "max_connections"),
                                  out.max_connections_per_host, 1, kMaxPerHostLimit);
          !e.empty())
        return e;
  }
  return {};
}

}  // namespace sluice::xds
