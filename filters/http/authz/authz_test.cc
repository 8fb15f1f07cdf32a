// The HTTP authz filter: allow continues, deny answers 403 with flag AZ and
// stops, a per-route config replaces the listener's, identity and source
// come from the downstream connection, and each decision is counted.
#include "filters/http/authz/filter.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "tests/unit/authz/test_connection.h"
#include "tests/unit/http/fake_filter_callbacks.h"

namespace sluice::filters::authz {
namespace {

using sluice::authz::testing::TestConnection;
using sluice::authz::testing::verifiedPeer;
using sluice::http::FilterHeadersStatus;
using sluice::http::ResponseFlag;

std::shared_ptr<const AuthzConfig> parse(const std::string& yaml) {
  config::ParseContext ctx("t.yaml");
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "authz");
  const auto spec = reader().read(r);
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  return std::static_pointer_cast<const AuthzConfig>(factory().build(*spec));
}

int64_t decisions(const std::string& prefix, const std::string& action, const std::string& rule) {
  return stats::namedCounter("sluice_authz_decisions_total", "",
                             {{"stat_prefix", prefix}, {"layer", "http"}, {"action", action}, {"rule", rule}})
      ->value();
}

struct Stream {
  explicit Stream(const std::string& peer, std::optional<net::TlsInfo> tls = std::nullopt)
      : tc(cb.loop(), peer, std::move(tls)) {
    cb.connection = tc.conn.get();
  }
  FilterHeadersStatus run(const AuthzConfig& cfg, std::string_view method, std::string_view path) {
    cb.request.add(sluice::http::headers::kMethod, method);
    cb.request.add(sluice::http::headers::kPath, path);
    cb.request.add(sluice::http::headers::kAuthority, "svc");
    AuthzFilter f(cfg);
    f.setDecoderFilterCallbacks(cb);
    return f.decodeHeaders(cb.request, true);
  }
  sluice::http::testing::FakeDecoderCallbacks cb;
  TestConnection tc;
};

const char* kPolicy = R"(
stat_prefix: http-unit
rules:
  - {name: no-admin, action: deny, paths: [{prefix: /admin}]}
  - {name: reads, action: allow, methods: [GET, HEAD]}
  - {name: lan-writes, action: allow, methods: [POST], principals: [{source_ip: 10.0.0.0/8}]}
default_action: deny
)";

TEST(AuthzFilterTest, AllowContinuesDenyAnswers403) {
  auto cfg = parse(kPolicy);
  Stream ok("10.0.0.1:1");
  EXPECT_EQ(ok.run(*cfg, "GET", "/api"), FilterHeadersStatus::Continue);
  EXPECT_FALSE(ok.cb.local_status);
  EXPECT_EQ(decisions("http-unit", "allow", "reads"), 1);

  Stream admin("10.0.0.1:1");
  EXPECT_EQ(admin.run(*cfg, "GET", "/admin/users"), FilterHeadersStatus::StopIteration);
  EXPECT_EQ(admin.cb.local_status, 403);
  EXPECT_EQ(admin.cb.local_body, "RBAC: access denied\n");
  EXPECT_TRUE(admin.cb.streamInfo().hasFlag(ResponseFlag::AuthzDenied));
  EXPECT_EQ(admin.cb.streamInfo().details, "authz_denied");
  EXPECT_EQ(decisions("http-unit", "deny", "no-admin"), 1);

  Stream lan("10.9.9.9:1");
  EXPECT_EQ(lan.run(*cfg, "POST", "/api"), FilterHeadersStatus::Continue);
  Stream wan("203.0.113.9:1");
  EXPECT_EQ(wan.run(*cfg, "POST", "/api"), FilterHeadersStatus::StopIteration);
  EXPECT_EQ(wan.cb.local_status, 403);
  EXPECT_EQ(decisions("http-unit", "allow", "lan-writes"), 1);
  EXPECT_EQ(decisions("http-unit", "deny", "default"), 1);
}

TEST(AuthzFilterTest, SpiffeIdentityComesFromTheDownstreamConnection) {
  auto cfg = parse(R"(
stat_prefix: http-id
default_action: deny
rules: [{name: client, action: allow, principals: [{spiffe_id: {exact: "spiffe://sluice.test/ns/default/sa/client"}}]}]
)");
  Stream client("10.0.0.1:1", verifiedPeer("spiffe://sluice.test/ns/default/sa/client"));
  EXPECT_EQ(client.run(*cfg, "GET", "/"), FilterHeadersStatus::Continue);
  Stream other("10.0.0.1:1", verifiedPeer("spiffe://sluice.test/ns/default/sa/other"));
  EXPECT_EQ(other.run(*cfg, "GET", "/"), FilterHeadersStatus::StopIteration);
  Stream plaintext("10.0.0.1:1");
  EXPECT_EQ(plaintext.run(*cfg, "GET", "/"), FilterHeadersStatus::StopIteration);
  // A client-written header is never an identity.
  Stream spoof("10.0.0.1:1");
  spoof.cb.request.add("x-forwarded-client-cert", "URI=spiffe://sluice.test/ns/default/sa/client");
  EXPECT_EQ(spoof.run(*cfg, "GET", "/"), FilterHeadersStatus::StopIteration);
  EXPECT_EQ(decisions("http-id", "allow", "client"), 1);
  EXPECT_EQ(decisions("http-id", "deny", "default"), 3);
}

TEST(AuthzFilterTest, PerRouteConfigReplacesTheListenerPolicy) {
  auto listener = parse("stat_prefix: http-listener\ndefault_action: deny");
  auto route = parse("stat_prefix: http-route\ndefault_action: allow");
  Stream s("10.0.0.1:1");
  s.cb.per_filter_config = route.get();
  EXPECT_EQ(s.run(*listener, "GET", "/"), FilterHeadersStatus::Continue);
  EXPECT_EQ(decisions("http-route", "allow", "default"), 1);
  EXPECT_EQ(decisions("http-listener", "deny", "default"), 0);

  Stream t("10.0.0.1:1");
  EXPECT_EQ(t.run(*listener, "GET", "/"), FilterHeadersStatus::StopIteration);
  EXPECT_EQ(decisions("http-listener", "deny", "default"), 1);
}

}  // namespace
}  // namespace sluice::filters::authz
