#include "proxy/authz/policy.h"

#include <algorithm>
#include <cstring>

namespace sluice::authz {
namespace {

// Lazily computed once per evaluation, and only when a rule has paths. The
// connection manager has already normalized :path (proxy/http/path_normalizer.h):
// this is the path the route matched and the upstream receives.
class PathView {
 public:
  explicit PathView(const http::HeaderMap* request) : request_(request) {}
  std::string_view get() {
    if (!done_) {
      path_ = http::pathWithoutQuery(request_->path());
      done_ = true;
    }
    return path_;
  }

 private:
  const http::HeaderMap* request_;
  std::string_view path_;
  bool done_ = false;
};

bool principalMatches(const Principal& p, const RequestFacts& f) {
  switch (p.kind) {
    case Principal::Kind::SpiffeId: return !f.spiffe_id.empty() && p.spiffe->matches(f.spiffe_id);
    case Principal::Kind::SourceIp: return p.source->contains(f.source);
    case Principal::Kind::Authenticated: return f.authenticated;
  }
  return false;
}

bool ruleMatches(const Rule& r, const RequestFacts& f, PathView& path) {
  auto peer = [&](const Principal& p) { return principalMatches(p, f); };
  if (!r.principals.empty() && std::none_of(r.principals.begin(), r.principals.end(), peer)) return false;
  if (!r.hasHttpConditions()) return true;
  if (f.request == nullptr) return false;  // HTTP conditions never hold for a bare connection
  const http::HeaderMap& h = *f.request;
  if (!r.methods.empty() && std::find(r.methods.begin(), r.methods.end(), h.method()) == r.methods.end())
    return false;
  if (!r.paths.empty()) {
    const std::string_view p = path.get();
    if (std::none_of(r.paths.begin(), r.paths.end(), [&](const http::StringMatcher& m) { return m.matches(p); }))
      return false;
  }
  for (const auto& m : r.headers)
    if (!m.matcher.matches(h.get(m.name))) return false;
  return true;
}

}  // namespace

Rule Rule::build(const config::AuthzRule& spec) {
  return {spec.name,
          spec.action,
          spec.principals,
          spec.methods,
          http::buildAll<http::StringMatcher>(spec.paths),
          http::buildAll<http::HeaderMatcher>(spec.headers)};
}

Policy Policy::build(const config::AuthzPolicy& spec) {
  Policy p;
  p.rules.reserve(spec.rules.size());
  for (const auto& r : spec.rules) p.rules.push_back(Rule::build(r));
  p.default_action = spec.default_action;
  return p;
}

RequestFacts connectionFacts(const ip::Address& peer, const net::TlsInfo* tls) {
  RequestFacts f;
  f.source = peer.sockAddr();
  // An unverified certificate says nothing about who the peer is.
  if (tls != nullptr && tls->peer_certificate_presented && tls->peer_certificate_verified) {
    f.authenticated = true;
    f.spiffe_id = tls->peer_spiffe_id;
  }
  return f;
}

Decision evaluate(const Policy& policy, const RequestFacts& facts) {
  PathView path(facts.request);
  std::optional<size_t> allow;
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const Rule& r = policy.rules[i];
    if (r.action == Action::Allow && allow) continue;  // an allow is decided; only a deny can change it
    if (!ruleMatches(r, facts, path)) continue;
    if (r.action == Action::Deny) return {false, i};
    allow = i;
  }
  if (allow) return {true, allow};
  return {policy.default_action == Action::Allow, std::nullopt};
}

}  // namespace sluice::authz
