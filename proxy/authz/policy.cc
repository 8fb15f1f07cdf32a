#include "proxy/authz/policy.h"

#include <algorithm>
#include <cstring>

namespace sluice::authz {
namespace {

bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A '%', an empty segment ("//") or a "." / ".." segment: anything else is
// already in the form normalizePath produces.
bool needsNormalizing(std::string_view p) {
  const size_t n = p.size();
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == '%') return true;
    if (p[i] != '/' || i + 1 == n) continue;
    if (p[i + 1] == '/') return true;
    if (p[i + 1] != '.') continue;
    const size_t j = i + 2;
    if (j == n || p[j] == '/') return true;
    if (p[j] == '.' && (j + 1 == n || p[j + 1] == '/')) return true;
  }
  return false;
}

// Lazily computed once per evaluation, and only when a rule has paths.
class PathView {
 public:
  explicit PathView(const http::HeaderMap* request) : request_(request) {}
  std::string_view get() {
    if (!done_) {
      thread_local std::string scratch;
      path_ = normalizePath(request_->path(), scratch);
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

std::string_view normalizePath(std::string_view path, std::string& scratch) {
  path = http::pathWithoutQuery(path);
  // Only origin-form paths: "*" (OPTIONS) and anything odd are matched as sent.
  if (path.empty() || path.front() != '/' || !needsNormalizing(path)) return path;

  // Both passes work in place: neither ever writes past what it has read.
  scratch.assign(path);
  char* s = scratch.data();
  size_t n = scratch.size();
  size_t w = 0;
  for (size_t r = 0; r < n; ++r) {
    if (s[r] == '%' && r + 2 < n && hexValue(s[r + 1]) >= 0 && hexValue(s[r + 2]) >= 0) {
      const auto c = static_cast<unsigned char>(hexValue(s[r + 1]) * 16 + hexValue(s[r + 2]));
      if (isUnreserved(c)) {
        s[w++] = static_cast<char>(c);
        r += 2;
        continue;
      }
    }
    s[w++] = s[r];
  }
  n = w;

  const bool ends_with_slash = s[n - 1] == '/';
  bool last_was_dot = false;
  w = 0;
  size_t r = 0;
  while (r < n) {
    if (s[r] == '/') {  // merges runs of slashes
      ++r;
      continue;
    }
    size_t e = r;
    while (e < n && s[e] != '/') ++e;
    const std::string_view seg(s + r, e - r);
    last_was_dot = seg == "." || seg == "..";
    if (seg == "..") {
      while (w > 0 && s[w - 1] != '/') --w;  // drop the last output segment...
      if (w > 0) --w;                        // ...and its slash
    } else if (seg != ".") {
      s[w++] = '/';
      std::memmove(s + w, s + r, seg.size());
      w += seg.size();
    }
    r = e;
  }
  if ((ends_with_slash || last_was_dot || w == 0) && (w == 0 || s[w - 1] != '/')) s[w++] = '/';
  scratch.resize(w);
  return scratch;
}

}  // namespace sluice::authz
