#pragma once
// Enforcer: what both authz filters' runtime configs hold, built from their
// specs when a snapshot is built: the stat prefix, the runtime policy, and
// the decision counters resolved for one layer. decide() evaluates, counts
// and logs; the filters only gather facts and act (close the connection,
// answer 403).
//
// Metrics: sluice_authz_decisions_total{stat_prefix, layer, action, rule}
// with rule = the deciding rule's name or "default" (bounded by the config);
// sluice_authz_denial_logs_suppressed_total counts denial log lines left out.
//
// Denials are logged as warnings with the peer identity (SPIFFE ID or "-"),
// the source address, the rule and, for HTTP, method and path; at most
// kDenialLogsPerSecond lines per second per worker thread.
//
// Immutable once built; decide() is called on worker threads.

#include <memory>
#include <string>
#include <vector>

#include "config/authz_policy.h"
#include "proxy/authz/policy.h"
#include "proxy/event/timer.h"
#include "proxy/stats/named_counters.h"

namespace sluice::authz {

inline constexpr uint32_t kDenialLogsPerSecond = 10;

class Enforcer {
 public:
  // From a spec its reader accepted; compiles the policy's matchers and
  // resolves a counter per rule and one for the default action.
  Enforcer(std::string stat_prefix, const config::AuthzPolicy& policy, Layer layer);

  // Evaluates `facts`, bumps the decision's counter, logs a denial.
  Decision decide(const RequestFacts& facts, event::MonoTime now) const;

  const Policy& policy() const { return policy_; }
  const std::string& statPrefix() const { return stat_prefix_; }
  Layer layer() const { return layer_; }

 private:
  void logDenial(const RequestFacts& facts, const Decision& d, event::MonoTime now) const;

  std::string stat_prefix_;
  Layer layer_;
  Policy policy_;
  std::vector<std::shared_ptr<stats::NamedCounter>> rule_counters_;  // by rule index
  std::shared_ptr<stats::NamedCounter> default_counter_;
  std::shared_ptr<stats::NamedCounter> suppressed_logs_;
};

}  // namespace sluice::authz
