// readAuthzPolicy: YAML -> AuthzPolicy, with every mistake reported at its
// field (file:line:col: path: message).
#include <algorithm>
#include <cctype>
#include <set>

#include "config/authz_policy.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

using Principal = AuthzPrincipal;

bool readAction(MapReader& r, std::string_view key, AuthzAction& out, bool required) {
  if (!r.has(key)) {
    if (required) r.ctx().error(r.node(), r.childPath(key), "missing required field");
    return false;
  }
  std::string s;
  r.string(key, s);
  if (s == "allow") out = AuthzAction::Allow;
  else if (s == "deny") out = AuthzAction::Deny;
  else if (r.child(key).IsScalar()) r.ctx().error(r.locOf(key), r.childPath(key), "must be allow or deny");
  return true;
}

// An explicit empty list would read as "nothing matches" to some and "no
// condition" to others; absence is the one spelling of "any".
bool nonEmptyList(MapReader& r, std::string_view key, std::string_view absent_means) {
  const YAML::Node n = r.child(key);
  if (n.IsSequence() && n.size() == 0) {
    r.ctx().error(n, r.childPath(key), "must not be empty (omit it to match " + std::string(absent_means) + ")");
    return false;
  }
  return n.IsDefined();
}

// Returns whether p holds a usable matcher.
bool readSpiffe(MapReader& pr, Principal& p) {
  p.kind = Principal::Kind::SpiffeId;
  MapReader sr(pr.ctx(), pr.child("spiffe_id"), pr.childPath("spiffe_id"));
  if (!sr.isMap()) {
    pr.ctx().error(pr.locOf("spiffe_id"), pr.childPath("spiffe_id"), "expected {exact: ID} or {prefix: ID}");
    return false;
  }
  const bool exact = sr.has("exact"), prefix = sr.has("prefix");
  if (exact == prefix) {
    sr.ctx().error(sr.node(), sr.path(), "exactly one of exact, prefix is required");
    sr.child("exact");
    sr.child("prefix");
    sr.finish();
    return false;
  }
  const std::string_view key = exact ? "exact" : "prefix";
  p.spiffe_prefix = prefix;
  sr.string(key, p.spiffe_value, true);
  sr.finish();
  if (!sr.child(key).IsScalar()) return false;
  // A prefix is a path prefix on segment boundaries ("spiffe://td/ns/prod"
  // covers ".../prod/x", never ".../production"): the matcher's "ID/*"
  // pattern, with or without the trailing slash written.
  std::string pattern = p.spiffe_value;
  if (prefix) {
    if (!pattern.empty() && pattern.back() == '/') pattern.pop_back();
    pattern += "/*";
  }
  std::string why;
  p.spiffe = identity::SpiffeIdMatcher::parse(pattern, &why);
  if (!p.spiffe) sr.ctx().error(sr.locOf(key), sr.childPath(key), "invalid SPIFFE ID: " + why);
  return p.spiffe.has_value();
}

bool readSourceIp(MapReader& pr, Principal& p) {
  p.kind = Principal::Kind::SourceIp;
  std::string text;
  pr.string("source_ip", text);
  if (!pr.child("source_ip").IsScalar()) return false;
  std::string why;
  p.source = ip::Cidr::parse(text, &why);
  if (!p.source) pr.ctx().error(pr.locOf("source_ip"), pr.childPath("source_ip"), "'" + text + "': " + why);
  return p.source.has_value();
}

bool readAuthenticated(MapReader& pr, Principal& p) {
  p.kind = Principal::Kind::Authenticated;
  bool on = true;
  pr.boolean("authenticated", on);
  // "false" would be a principal for plaintext peers, which a deny rule on
  // authenticated: true (or default_action) already says without a double negative.
  if (!on)
    pr.ctx().error(pr.locOf("authenticated"), pr.childPath("authenticated"),
                   "must be true (to single out peers without a verified certificate, allow authenticated ones "
                   "and deny by default)");
  return on;
}

void readPrincipal(MapReader& r, const YAML::Node& item, const std::string& path, AuthzRule& rule) {
  MapReader pr(r.ctx(), item, path);
  if (!pr.isMap()) {
    r.ctx().error(item, path, "expected a mapping with one of spiffe_id, source_ip, authenticated");
    return;
  }
  Principal p;
  bool ok = false;
  const int kinds = pr.has("spiffe_id") + pr.has("source_ip") + pr.has("authenticated");
  if (kinds != 1) {
    pr.ctx().error(item, path, "expected exactly one of spiffe_id, source_ip, authenticated");
    for (std::string_view key : {"spiffe_id", "source_ip", "authenticated"}) pr.child(key);
  } else if (pr.has("spiffe_id")) {
    ok = readSpiffe(pr, p);
  } else if (pr.has("source_ip")) {
    ok = readSourceIp(pr, p);
  } else {
    ok = readAuthenticated(pr, p);
  }
  pr.finish();
  // Only usable principals are kept: evaluation never meets a half-read one.
  if (ok) rule.principals.push_back(std::move(p));
}

bool isUpperToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isupper(c) || std::isdigit(c) || c == '-' || c == '_';
  });
}

void readPath(MapReader& r, const YAML::Node& n, const std::string& path, AuthzRule& rule) {
  MapReader mr(r.ctx(), n, path);
  if (!mr.isMap()) {
    r.ctx().error(n, path, "expected a string matcher ({prefix: /api}, {exact: /healthz}, ...)");
    return;
  }
  StringMatcher m;
  readStringMatcher(mr, m);
  // Paths are matched normalized, which always starts with '/': a literal
  // without one could never match.
  const bool literal = m.kind == StringMatcher::Kind::Exact || m.kind == StringMatcher::Kind::Prefix;
  const std::string_view key = m.kind == StringMatcher::Kind::Exact ? "exact" : "prefix";
  if (literal && mr.child(key).IsScalar() && (m.value.empty() || m.value.front() != '/'))
    mr.ctx().error(mr.locOf(key), mr.childPath(key), "must start with '/'");
  mr.finish();
  rule.paths.push_back(std::move(m));
}

void readHttpConditions(MapReader& r, AuthzRule& rule) {
  if (nonEmptyList(r, "methods", "any method")) {
    r.forEachItem("methods", [&](const YAML::Node& n, const std::string& path) {
      if (!n.IsScalar() || !isUpperToken(n.Scalar())) {
        r.ctx().error(n, path, "expected an upper-case method name (GET, POST, ...)");
        return;
      }
      rule.methods.push_back(n.Scalar());
    });
  }
  if (nonEmptyList(r, "paths", "any path"))
    r.forEachItem("paths", [&](const YAML::Node& n, const std::string& path) { readPath(r, n, path, rule); });
  nonEmptyList(r, "headers", "any headers");
  readHeaderMatchers(r, "headers", rule.headers);
}

void readRule(MapReader& r, const YAML::Node& item, const std::string& path, AuthzLayer layer, size_t index,
              std::set<std::string>& names, AuthzPolicy& out) {
  MapReader rr(r.ctx(), item, path);
  if (!rr.isMap()) {
    r.ctx().error(item, path, "expected a mapping");
    return;
  }
  AuthzRule rule;
  rule.name = "rules[" + std::to_string(index) + "]";
  if (rr.has("name")) {
    rr.string("name", rule.name);
    const YAML::Node n = rr.child("name");
    if (n.IsScalar() && rule.name.empty()) rr.ctx().error(n, rr.childPath("name"), "must not be empty");
    // The name is a metric label; "default" labels decisions no rule made.
    if (rule.name == "default") rr.ctx().error(n, rr.childPath("name"), "'default' is reserved for the default action");
  }
  if (!names.insert(rule.name).second)
    rr.ctx().error(rr.locOf("name"), rr.childPath("name"), "duplicate rule name '" + rule.name + "'");
  readAction(rr, "action", rule.action, /*required=*/true);
  if (nonEmptyList(rr, "principals", "any peer"))
    rr.forEachItem("principals",
                   [&](const YAML::Node& n, const std::string& p) { readPrincipal(rr, n, p, rule); });
  if (layer == AuthzLayer::Http) {
    readHttpConditions(rr, rule);
  } else {
    for (std::string_view key : {"methods", "paths", "headers"})
      if (rr.child(key).IsDefined())  // child() also marks it known: one error, not two
        rr.ctx().error(rr.locOf(key), rr.childPath(key),
                       "the network authz filter sees connections, not requests: match " + std::string(key) +
                           " in the http authz filter (http_filters: [{authz: ...}])");
  }
  rr.finish();
  out.rules.push_back(std::move(rule));
}

}  // namespace

AuthzPolicy readAuthzPolicy(MapReader& r, AuthzLayer layer) {
  AuthzPolicy policy;
  readAction(r, "default_action", policy.default_action, /*required=*/false);
  std::set<std::string> names;
  size_t index = 0;
  r.forEachItem("rules", [&](const YAML::Node& item, const std::string& path) {
    readRule(r, item, path, layer, index++, names, policy);
  });
  return policy;
}

}  // namespace sluice::config
