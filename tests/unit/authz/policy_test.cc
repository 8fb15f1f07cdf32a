// The authz policy: every principal kind, HTTP conditions, deny-wins and the
// default action, plaintext vs TLS facts, path rules, the YAML reader's
// spec and errors, and the denial log limiter.
#include "proxy/authz/policy.h"

#include <gtest/gtest.h>

#include "config/authz_policy.h"
#include "config/yaml_reader.h"
#include "proxy/authz/log_limiter.h"

namespace sluice::authz {
namespace {

config::AuthzPolicy readSpec(const std::string& yaml, Layer layer = Layer::Http) {
  config::ParseContext ctx("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "authz");
  config::AuthzPolicy spec = config::readAuthzPolicy(r, layer);
  r.finish();
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  return spec;
}

// The runtime policy, as a snapshot builds it from the spec.
Policy parse(const std::string& yaml, Layer layer = Layer::Http) { return Policy::build(readSpec(yaml, layer)); }

// All errors of reading `yaml`, one per line.
std::string errors(const std::string& yaml, Layer layer = Layer::Http) {
  config::ParseContext ctx("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "authz");
  config::readAuthzPolicy(r, layer);
  r.finish();
  return ctx.str();
}

ip::Address addr(const std::string& s) { return *ip::Address::parse(s); }

net::TlsInfo verifiedPeer(const std::string& spiffe) {
  net::TlsInfo t;
  t.peer_certificate_presented = true;
  t.peer_certificate_verified = true;
  t.peer_spiffe_id = spiffe;
  if (!spiffe.empty()) t.peer_uri_sans = {spiffe};
  return t;
}

http::HeaderMap request(std::string_view method, std::string_view path) {
  http::HeaderMap h;
  h.add(http::headers::kMethod, method);
  h.add(http::headers::kPath, path);
  h.add(http::headers::kAuthority, "svc");
  return h;
}

struct Facts {
  explicit Facts(const std::string& peer, const net::TlsInfo* tls = nullptr) : address(addr(peer)) {
    facts = connectionFacts(address, tls);
  }
  ip::Address address;
  RequestFacts facts;
};

bool allowed(const Policy& p, const RequestFacts& f) { return evaluate(p, f).allowed; }

constexpr const char* kClient = "spiffe://sluice.test/ns/default/sa/client";

// --- CIDR -------------------------------------------------------------------

TEST(CidrTest, ParsesV4AndV6AndMatchesOnPrefixBoundaries) {
  auto v4 = ip::Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->contains(addr("10.0.0.0:1")));
  EXPECT_TRUE(v4->contains(addr("10.255.255.255:1")));
  EXPECT_FALSE(v4->contains(addr("11.0.0.0:1")));
  EXPECT_FALSE(v4->contains(addr("9.255.255.255:1")));
  EXPECT_EQ(v4->str(), "10.0.0.0/8");

  auto odd = ip::Cidr::parse("192.168.1.128/25");  // a boundary inside a byte
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(addr("192.168.1.128:1")));
  EXPECT_TRUE(odd->contains(addr("192.168.1.255:1")));
  EXPECT_FALSE(odd->contains(addr("192.168.1.127:1")));

  auto host = ip::Cidr::parse("127.0.0.1");  // bare address = /32
  ASSERT_TRUE(host);
  EXPECT_EQ(host->str(), "127.0.0.1/32");
  EXPECT_TRUE(host->contains(addr("127.0.0.1:9")));
  EXPECT_FALSE(host->contains(addr("127.0.0.2:9")));

  auto all = ip::Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(addr("1.2.3.4:5")));
  EXPECT_FALSE(all->contains(addr("[::1]:5"))) << "a v4 prefix never matches a real v6 peer";

  auto v6 = ip::Cidr::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(addr("[2001:db8:ffff::1]:1")));
  EXPECT_FALSE(v6->contains(addr("[2001:db9::1]:1")));
  EXPECT_FALSE(v6->contains(addr("10.0.0.1:1")));
  auto v6host = ip::Cidr::parse("::1/128");
  ASSERT_TRUE(v6host);
  EXPECT_TRUE(v6host->contains(addr("[::1]:1")));
  EXPECT_FALSE(v6host->contains(addr("[::2]:1")));
}

TEST(CidrTest, V4MappedPeerMatchesV4Prefix) {
  auto v4 = ip::Cidr::parse("10.1.0.0/16");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->contains(addr("[::ffff:10.1.2.3]:80")));
  EXPECT_FALSE(v4->contains(addr("[::ffff:10.2.2.3]:80")));
}

TEST(CidrTest, RejectsMalformed) {
  std::string why;
  EXPECT_FALSE(ip::Cidr::parse("10.0.0.0/33", &why));
  EXPECT_NE(why.find("0..32"), std::string::npos) << why;
  EXPECT_FALSE(ip::Cidr::parse("::/129", &why));
  EXPECT_FALSE(ip::Cidr::parse("10.0.0.0/", &why));
  EXPECT_FALSE(ip::Cidr::parse("10.0.0.0/8x", &why));
  EXPECT_FALSE(ip::Cidr::parse("10.0.0/8", &why));
  EXPECT_FALSE(ip::Cidr::parse("host.example/8", &why));
  EXPECT_FALSE(ip::Cidr::parse("10.1.0.0/8", &why));
  EXPECT_NE(why.find("past the prefix"), std::string::npos) << why;
  EXPECT_FALSE(ip::Cidr::parse("2001:db8::1/32", &why));
}

// --- principals ---------------------------------------------------------------

TEST(PolicyTest, SpiffeExactAndPrefixOnSegmentBoundaries) {
  const Policy p = parse(R"(
default_action: deny
rules:
  - {name: exact, action: allow, principals: [{spiffe_id: {exact: "spiffe://sluice.test/ns/default/sa/client"}}]}
  - {name: prod, action: allow, principals: [{spiffe_id: {prefix: "spiffe://sluice.test/ns/prod/"}}]}
  - {name: other-td, action: allow, principals: [{spiffe_id: {prefix: "spiffe://other.test"}}]}
)");
  auto decide = [&](const std::string& id) {
    const net::TlsInfo tls = verifiedPeer(id);
    Facts f("10.0.0.1:1", &tls);
    return evaluate(p, f.facts);
  };
  EXPECT_EQ(decide(kClient).rule, 0u);
  EXPECT_FALSE(decide("spiffe://sluice.test/ns/default/sa/client2").allowed);
  EXPECT_FALSE(decide("spiffe://sluice.test/ns/default/sa").allowed);
  EXPECT_EQ(decide("spiffe://sluice.test/ns/prod/sa/web").rule, 1u);
  EXPECT_FALSE(decide("spiffe://sluice.test/ns/production/sa/web").allowed) << "prefix is per path segment";
  EXPECT_FALSE(decide("spiffe://sluice.test/ns/prod").allowed) << "the prefix itself is not below it";
  EXPECT_EQ(decide("spiffe://other.test/anything").rule, 2u);
  EXPECT_FALSE(decide("spiffe://other.testing/x").allowed);
}

TEST(PolicyTest, PlaintextAndUnverifiedPeersHaveNoIdentity) {
  const Policy p = parse(R"(
default_action: deny
rules:
  - {action: allow, principals: [{spiffe_id: {exact: "spiffe://sluice.test/ns/default/sa/client"}}]}
  - {action: allow, principals: [{authenticated: true}], methods: [POST]}
)");
  Facts plain("10.0.0.1:1");
  EXPECT_FALSE(plain.facts.authenticated);
  EXPECT_TRUE(plain.facts.spiffe_id.empty());
  EXPECT_FALSE(allowed(p, plain.facts));

  net::TlsInfo unverified = verifiedPeer(kClient);
  unverified.peer_certificate_verified = false;
  Facts u("10.0.0.1:1", &unverified);
  EXPECT_FALSE(u.facts.authenticated);
  EXPECT_FALSE(allowed(p, u.facts)) << "an unverified certificate's URI is no identity";

  net::TlsInfo no_cert;  // TLS without a client certificate
  Facts n("10.0.0.1:1", &no_cert);
  EXPECT_FALSE(allowed(p, n.facts));

  const net::TlsInfo ok = verifiedPeer(kClient);
  Facts v("10.0.0.1:1", &ok);
  EXPECT_TRUE(v.facts.authenticated);
  EXPECT_EQ(v.facts.spiffe_id, kClient);
  EXPECT_TRUE(allowed(p, v.facts));
}

TEST(PolicyTest, AuthenticatedMatchesAnyVerifiedCertificateEvenWithoutSpiffeId) {
  const Policy p = parse("default_action: deny\nrules: [{action: allow, principals: [{authenticated: true}]}]");
  const net::TlsInfo tls = verifiedPeer("");  // verified, no SPIFFE URI SAN
  Facts f("10.0.0.1:1", &tls);
  EXPECT_TRUE(allowed(p, f.facts));
  EXPECT_FALSE(allowed(p, Facts("10.0.0.1:1").facts));
}

TEST(PolicyTest, SourceIpPrincipalsAreOred) {
  const Policy p = parse(R"(
default_action: deny
rules:
  - action: allow
    principals: [{source_ip: 10.0.0.0/8}, {source_ip: "2001:db8::/32"}, {source_ip: 127.0.0.1}]
)");
  EXPECT_TRUE(allowed(p, Facts("10.9.9.9:1").facts));
  EXPECT_TRUE(allowed(p, Facts("[2001:db8::5]:1").facts));
  EXPECT_TRUE(allowed(p, Facts("127.0.0.1:1").facts));
  EXPECT_FALSE(allowed(p, Facts("127.0.0.2:1").facts));
  EXPECT_FALSE(allowed(p, Facts("[2001:db9::5]:1").facts));
}

// --- evaluation order -----------------------------------------------------------

TEST(PolicyTest, DenyWinsWhateverTheOrder) {
  const Policy p = parse(R"(
rules:
  - {name: allow-lan, action: allow, principals: [{source_ip: 10.0.0.0/8}]}
  - {name: deny-bad, action: deny, principals: [{source_ip: 10.6.6.0/24}]}
)");
  const Decision d = evaluate(p, Facts("10.6.6.6:1").facts);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, 1u);
  const Decision ok = evaluate(p, Facts("10.1.1.1:1").facts);
  EXPECT_TRUE(ok.allowed);
  EXPECT_EQ(ok.rule, 0u);
}

TEST(PolicyTest, FirstMatchingAllowIsReportedAndDefaultAppliesOtherwise) {
  const Policy allow_default = parse(R"(
rules:
  - {name: a, action: allow, principals: [{source_ip: 10.0.0.0/8}]}
  - {name: b, action: allow, principals: [{source_ip: 10.1.0.0/16}]}
)");
  EXPECT_EQ(evaluate(allow_default, Facts("10.1.1.1:1").facts).rule, 0u);
  const Decision d = evaluate(allow_default, Facts("192.168.0.1:1").facts);
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.rule);

  const Policy deny_default =
      parse("default_action: deny\nrules: [{action: allow, principals: [{source_ip: 10.0.0.0/8}]}]");
  const Decision dd = evaluate(deny_default, Facts("192.168.0.1:1").facts);
  EXPECT_FALSE(dd.allowed);
  EXPECT_FALSE(dd.rule);

  const Policy empty = parse("default_action: deny");
  EXPECT_FALSE(allowed(empty, Facts("10.0.0.1:1").facts));
  EXPECT_TRUE(allowed(parse("{}"), Facts("10.0.0.1:1").facts));
}

TEST(PolicyTest, RuleWithoutConditionsMatchesEveryone) {
  const Policy p = parse("rules: [{name: closed, action: deny}]");
  EXPECT_FALSE(allowed(p, Facts("10.0.0.1:1").facts));
}

// --- HTTP conditions -------------------------------------------------------------

TEST(PolicyTest, MethodsPathsAndHeaders) {
  const Policy p = parse(R"(
default_action: deny
rules:
  - name: read
    action: allow
    methods: [GET, HEAD]
    paths: [{prefix: /api}, {exact: /healthz}]
  - name: prod-writes
    action: allow
    methods: [POST]
    headers: [{name: x-env, exact: prod}, {name: x-team, present: true}]
)");
  auto decide = [&](http::HeaderMap h) {
    Facts f("10.0.0.1:1");
    f.facts.request = &h;
    return evaluate(p, f.facts);
  };
  EXPECT_EQ(decide(request("GET", "/api/v1?x=1")).rule, 0u);
  EXPECT_TRUE(decide(request("HEAD", "/healthz")).allowed);
  EXPECT_TRUE(decide(request("GET", "/healthz?full")).allowed) << "query is not part of the path";
  EXPECT_FALSE(decide(request("GET", "/healthz/x")).allowed);
  EXPECT_FALSE(decide(request("GET", "/other")).allowed);
  EXPECT_FALSE(decide(request("DELETE", "/api")).allowed);

  http::HeaderMap post = request("POST", "/x");
  EXPECT_FALSE(decide(post).allowed);
  post.add("x-env", "prod");
  EXPECT_FALSE(decide(post).allowed) << "headers are ANDed";
  post.add("x-team", "a");
  EXPECT_EQ(decide(post).rule, 1u);
  http::HeaderMap dev = request("POST", "/x");
  dev.add("X-Env", "dev");
  dev.add("x-team", "a");
  EXPECT_FALSE(decide(dev).allowed);
}

TEST(PolicyTest, HttpConditionsNeverMatchAConnection) {
  // Built by hand: the network reader refuses such a rule.
  Policy p;
  Rule r;
  r.action = Action::Deny;
  r.methods = {"GET"};
  p.rules.push_back(r);
  EXPECT_TRUE(allowed(p, Facts("10.0.0.1:1").facts));
}

// The connection manager normalizes :path before any filter runs
// (tests/unit/http/path_normalizer_test.cc); the policy matches it as it
// comes, without the query.
TEST(PolicyTest, PathRulesMatchThePathWithoutItsQuery) {
  const Policy p = parse("rules: [{name: no-admin, action: deny, paths: [{prefix: /admin}]}]");
  for (const char* path : {"/admin", "/admin/x", "/admin?x", "/admin/?q=/../api"}) {
    http::HeaderMap h = request("GET", path);
    Facts f("10.0.0.1:1");
    f.facts.request = &h;
    EXPECT_FALSE(allowed(p, f.facts)) << path;
  }
  for (const char* path : {"/api", "/api/admin", "/api?/admin", "/x/admin"}) {
    http::HeaderMap h = request("GET", path);
    Facts f("10.0.0.1:1");
    f.facts.request = &h;
    EXPECT_TRUE(allowed(p, f.facts)) << path;
  }
}

// --- reader ----------------------------------------------------------------------

TEST(PolicyParserTest, GoodYamlRoundTripsToJson) {
  const config::AuthzPolicy spec = readSpec(R"(
default_action: deny
rules:
  - name: allow-client
    action: allow
    principals:
      - {spiffe_id: {exact: "spiffe://sluice.test/ns/default/sa/client"}}
      - {spiffe_id: {prefix: "spiffe://sluice.test/ns/prod/"}}
      - {source_ip: "10.0.0.0/8"}
      - {authenticated: true}
    methods: [GET, HEAD]
    paths: [{prefix: /api}, {exact: /healthz}, {regex: "/v[0-9]+/.*"}]
    headers: [{name: x-env, exact: prod}]
  - action: deny
)");
  ASSERT_EQ(spec.rules.size(), 2u);
  EXPECT_EQ(spec.default_action, Action::Deny);
  EXPECT_EQ(spec.rules[0].principals.size(), 4u);
  EXPECT_EQ(spec.rules[0].paths[2].kind, config::StringMatcher::Kind::Regex);
  EXPECT_EQ(spec.rules[1].name, "rules[1]");
  const Policy p = Policy::build(spec);
  ASSERT_EQ(p.rules.size(), 2u);
  EXPECT_EQ(p.rules[0].paths.size(), 3u);
  EXPECT_NE(p.rules[0].paths[2].regex, nullptr) << "the build compiles regexes";
  const nlohmann::json j = config::authzPolicyJson(spec);
  EXPECT_EQ(j["default_action"], "deny");
  EXPECT_EQ(j["rules"][0]["principals"][1]["spiffe_id"]["prefix"], "spiffe://sluice.test/ns/prod/");
  EXPECT_EQ(j["rules"][0]["principals"][2]["source_ip"], "10.0.0.0/8");
  EXPECT_EQ(j["rules"][0]["paths"][0]["prefix"], "/api");
  EXPECT_EQ(j["rules"][0]["headers"][0]["name"], "x-env");
  EXPECT_EQ(j["rules"][1]["action"], "deny");
}

TEST(PolicyParserTest, ErrorsNameFileLineColumnAndPath) {
  const std::string text = errors(R"(default_action: maybe
rules:
  - action: permit
  - action: allow
    principals:
      - {source_ip: 10.1.0.0/8}
      - {spiffe_id: {exact: "http://x"}}
      - {spiffe_id: {prefix: "spiffe://td/a*"}}
      - {spiffe_id: {exact: a, prefix: b}}
      - {source_ip: 10.0.0.0/8, authenticated: true}
      - {authenticated: false}
      - {dns: x}
    methods: [get]
    paths: [{prefix: api}, {glob: "*"}]
    headers: [{exact: x}]
  - {name: dup, action: allow}
  - {name: dup, action: deny}
  - {name: default, action: deny}
  - {action: allow, principals: [], methods: []}
  - {action: allow, nope: 1}
)");
  for (const char* want : {
           "t.yaml:1:17: authz.default_action: must be allow or deny",
           "t.yaml:3:13: authz.rules[0].action: must be allow or deny",
           "t.yaml:6:21: authz.rules[1].principals[0].source_ip: '10.1.0.0/8': address has bits set",
           "authz.rules[1].principals[1].spiffe_id.exact: invalid SPIFFE ID: scheme must be spiffe://",
           "authz.rules[1].principals[2].spiffe_id.prefix: invalid SPIFFE ID",
           "authz.rules[1].principals[3].spiffe_id: exactly one of exact, prefix",
           "authz.rules[1].principals[4]: expected exactly one of spiffe_id, source_ip, authenticated",
           "authz.rules[1].principals[5].authenticated: must be true",
           "authz.rules[1].principals[6]: expected exactly one of",
           "t.yaml:13:15: authz.rules[1].methods[0]: expected an upper-case method",
           "authz.rules[1].paths[0].prefix: must start with '/'",
           "authz.rules[1].paths[1]: one of exact, prefix",
           "authz.rules[1].headers[0].name: missing required field",
           "t.yaml:17:12: authz.rules[3].name: duplicate rule name 'dup'",
           "t.yaml:18:12: authz.rules[4].name: 'default' is reserved",
           "authz.rules[5].principals: must not be empty",
           "authz.rules[5].methods: must not be empty",
           "authz.rules[6]: unknown field 'nope'",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << "missing: " << want << "\n" << text;
  }
  EXPECT_NE(errors("rules: [{principals: [{source_ip: 10.0.0.0/8}]}]").find("authz.rules[0].action: missing required"),
            std::string::npos);
  EXPECT_NE(errors("rules: {a: 1}").find("authz.rules: expected a list"), std::string::npos);
}

TEST(PolicyParserTest, NetworkLayerRejectsRequestConditions) {
  const std::string text = errors(R"(rules:
  - action: allow
    methods: [GET]
    paths: [{prefix: /}]
    headers: [{name: a, exact: b}]
)",
                                  Layer::Network);
  EXPECT_NE(text.find("t.yaml:3:14: authz.rules[0].methods: the network authz filter sees connections"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("authz.rules[0].paths: the network authz filter"), std::string::npos) << text;
  EXPECT_NE(text.find("authz.rules[0].headers: the network authz filter"), std::string::npos) << text;
  EXPECT_EQ(text.find("unknown field"), std::string::npos) << text;
}

// --- denial log limiter -------------------------------------------------------------

TEST(LogLimiterTest, AdmitsNPerSecondAndReportsWhatItLeftOut) {
  LogLimiter l(3);
  const event::MonoTime t0{std::chrono::seconds(100)};
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(l.admit(t0, suppressed));
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(l.admit(t0 + std::chrono::milliseconds(999), suppressed));
  EXPECT_TRUE(l.admit(t0 + std::chrono::seconds(1), suppressed));
  EXPECT_EQ(suppressed, 5u);
  EXPECT_TRUE(l.admit(t0 + std::chrono::seconds(1), suppressed));
  EXPECT_EQ(suppressed, 0u);
}

}  // namespace
}  // namespace sluice::authz
