// Bootstrap tokens: minted as `openssl dgst -hmac` computes them, accepted
// under any configured key, and every way a token can be wrong refused with
// its own reason.

#include "control/ca/bootstrap_token.h"

#include <gtest/gtest.h>

#include "tests/unit/control/ca/ca_test_support.h"

namespace sluice::control::ca {
namespace {

const std::string kKey = "0123456789abcdef-key-one";
const std::string kOther = "fedcba9876543210-key-two";

std::string reasonFor(const TokenVerifier& v, const std::string& token) {
  const TokenCheck c = v.verify(token);
  EXPECT_FALSE(c.identity) << token;
  return c.reason;
}

TEST(BootstrapTokenTest, MintsTheHmacOpensslComputes) {
  const std::string token = mintToken(kKey, {"default", "web"});
  const auto r = test::sh("printf %s v1/default/web | openssl dgst -sha256 -hmac " + kKey + " -r");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(token, "v1/default/web/" + r.out.substr(0, 64));
}

TEST(BootstrapTokenTest, AcceptsATokenSignedWithAnyConfiguredKey) {
  const TokenVerifier v({kOther, kKey});
  const TokenCheck c = v.verify(mintToken(kKey, {"payments", "api.v2"}));
  ASSERT_TRUE(c.identity) << c.reason;
  EXPECT_EQ(*c.identity, (WorkloadIdentity{"payments", "api.v2"}));
  EXPECT_TRUE(v.verify(mintToken(kOther, {"default", "web"})).identity);
}

TEST(BootstrapTokenTest, RefusesAnotherKeyATamperedTokenAndBadFormats) {
  const TokenVerifier v({kKey});
  const std::string good = mintToken(kKey, {"default", "web"});
  const std::string mac = good.substr(good.rfind('/') + 1);
  EXPECT_EQ(reasonFor(v, mintToken(kOther, {"default", "web"})), "token signature matches no configured key");
  // The identity changed under the same MAC.
  EXPECT_EQ(reasonFor(v, "v1/kube-system/web/" + mac), "token signature matches no configured key");
  std::string flipped = good;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_EQ(reasonFor(v, flipped), "token signature matches no configured key");
  EXPECT_EQ(reasonFor(v, ""), "empty token");
  EXPECT_EQ(reasonFor(v, "v1/default/" + mac),
            "malformed token: expected v1/<namespace>/<service-account>/<hex HMAC-SHA256>");
  EXPECT_EQ(reasonFor(v, "v1/default/web/x/" + mac),
            "malformed token: expected v1/<namespace>/<service-account>/<hex HMAC-SHA256>");
  EXPECT_EQ(reasonFor(v, "v2/default/web/" + mac),
            "unsupported token version 'v2': expected v1/<namespace>/<service-account>/<hex HMAC-SHA256>");
  EXPECT_EQ(reasonFor(v, "v1/Default/web/" + mac),
            "bad namespace in token: may hold only lower-case letters, digits and '-'");
  EXPECT_EQ(reasonFor(v, "v1/default/-web/" + mac),
            "bad service account in token: must start and end with a letter or digit");
  EXPECT_EQ(reasonFor(v, "v1/default/web/" + mac.substr(2)), "malformed token signature: expected 64 hex digits");
  EXPECT_EQ(reasonFor(v, "v1/default/web/" + mac.substr(1) + "g"), "malformed token signature: expected 64 hex digits");
  EXPECT_EQ(reasonFor(TokenVerifier({}), good), "token signature matches no configured key");
}

TEST(BootstrapTokenTest, NamesAreDnsLabels) {
  EXPECT_EQ(checkNamespace("default"), "");
  EXPECT_EQ(checkNamespace("a.b"), "may hold only lower-case letters, digits and '-'");
  EXPECT_EQ(checkNamespace(std::string(64, 'a')), "is longer than 63 characters");
  EXPECT_EQ(checkNamespace(""), "is empty");
  EXPECT_EQ(checkServiceAccount("api.v2"), "");
  EXPECT_EQ(checkServiceAccount("api..v2"), "is empty");
  EXPECT_EQ(checkServiceAccount("a/b"), "may hold only lower-case letters, digits and '-'");
}

TEST(BootstrapTokenTest, KeyFilesLoseTheirFinalNewlineAndMustBeLongEnough) {
  test::TempDir dir;
  test::writeText(dir / "k", kKey + "\n");
  std::string key, error;
  ASSERT_TRUE(readTokenKey(dir / "k", key, error)) << error;
  EXPECT_EQ(key, kKey);
  test::writeText(dir / "short", "tooshort\n");
  EXPECT_FALSE(readTokenKey(dir / "short", key, error));
  EXPECT_EQ(error, "key is 8 bytes; at least 16 are needed");
  EXPECT_FALSE(readTokenKey(dir / "none", key, error));
  EXPECT_EQ(error, "cannot read: No such file or directory");
}

}  // namespace
}  // namespace sluice::control::ca
