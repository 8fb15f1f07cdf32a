#include "proxy/authz/enforcer.h"

#include "ip/address.h"
#include "proxy/authz/log_limiter.h"
#include "proxy/log/log.h"

namespace sluice::authz {
namespace {

constexpr size_t kMaxLoggedValue = 256;

// Peer-controlled text (a path) goes into the log printable and bounded, so
// it can neither forge log lines nor bloat them.
void appendSafe(std::string& out, std::string_view v) {
  const size_t n = std::min(v.size(), kMaxLoggedValue);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    out.push_back(c > 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (v.size() > n) out += "...";
}

std::string sourceString(const sockaddr* sa) {
  if (sa == nullptr) return "-";
  const socklen_t len = sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  return ip::Address::fromSockaddr(sa, len).str();
}

std::shared_ptr<stats::NamedCounter> decisions(const std::string& prefix, Layer layer, Action action,
                                               const std::string& rule) {
  return stats::namedCounter("sluice_authz_decisions_total", "Authorization decisions, by deciding rule",
                             {{"stat_prefix", prefix},
                              {"layer", std::string(config::authzLayerName(layer))},
                              {"action", std::string(config::authzActionName(action))},
                              {"rule", rule}});
}

}  // namespace

Enforcer::Enforcer(std::string stat_prefix, const config::AuthzPolicy& policy, Layer layer)
    : stat_prefix_(std::move(stat_prefix)), layer_(layer), policy_(Policy::build(policy)) {
  rule_counters_.reserve(policy_.rules.size());
  for (const auto& rule : policy_.rules)
    rule_counters_.push_back(decisions(stat_prefix_, layer, rule.action, rule.name));
  default_counter_ = decisions(stat_prefix_, layer, policy_.default_action, "default");
  suppressed_logs_ = stats::namedCounter("sluice_authz_denial_logs_suppressed_total",
                                         "Authorization denial log lines left out by the per-worker rate limit", {});
}

Decision Enforcer::decide(const RequestFacts& facts, event::MonoTime now) const {
  const Decision d = evaluate(policy_, facts);
  (d.rule ? rule_counters_[*d.rule] : default_counter_)->inc();
  if (!d.allowed) logDenial(facts, d, now);
  return d;
}

void Enforcer::logDenial(const RequestFacts& facts, const Decision& d, event::MonoTime now) const {
  thread_local LogLimiter limiter(kDenialLogsPerSecond);
  uint64_t suppressed = 0;
  if (!limiter.admit(now, suppressed)) {
    suppressed_logs_->inc();
    return;
  }
  std::string line = "authz denied: layer=";
  line += config::authzLayerName(layer_);
  line += " stat_prefix=" + stat_prefix_;
  line += " rule=" + (d.rule ? policy_.rules[*d.rule].name : std::string("default"));
  line += " peer=";
  line += facts.spiffe_id.empty() ? std::string_view("-") : facts.spiffe_id;
  line += " source=" + sourceString(facts.source);
  if (facts.request != nullptr) {
    line += " method=";
    appendSafe(line, facts.request->method());
    line += " path=";
    appendSafe(line, facts.request->path());
  }
  if (suppressed > 0) line += " (" + std::to_string(suppressed) + " earlier denial lines suppressed)";
  log::warn(line);
}

}  // namespace sluice::authz
