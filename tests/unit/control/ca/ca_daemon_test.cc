// The CA inside the daemon: a `ca:` that cannot be built stops the start
// with positioned errors; a reload takes new TTLs and token keys, and
// refuses a change of keys or trust domain (that takes a restart) while
// the CA goes on as it was.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "control/control_daemon.h"
#include "tests/unit/control/ca/ca_test_support.h"

namespace sluice::control {
namespace {

using namespace std::chrono_literals;

class CaDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_key_ = dir_ / "k1";
    ca::test::writeText(test_key_, "first-key-long-enough\n");
    ca::test::writeText(dir_ / "k2", "second-key-long-enough\n");
    yaml_ =
        "ads: {address: 127.0.0.1:0}\nadmin: {address: 127.0.0.1:0}\ngroups: []\nca:\n"
        "  trust_domain: cluster.local\n  dir: state\n  max_ttl: 2h\n  default_ttl: 1h\n  token_keys: [k1]\n"
        "  address: 127.0.0.1:0\n";
    write(yaml_);
  }
  void write(const std::string& text) {
    ca::test::writeText(dir_ / "control.yaml.tmp", text);
    std::rename((dir_ / "control.yaml.tmp").c_str(), (dir_ / "control.yaml").c_str());
  }
  static std::string replaced(std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
  }
  static nlohmann::json status(ControlDaemon& d) { return nlohmann::json::parse(d.handleAdmin("GET", "/status").body); }

  ca::test::TempDir dir_;
  std::string test_key_, yaml_;
};

TEST_F(CaDaemonTest, ACaThatCannotBeBuiltStopsTheStartWithPositions) {
  write(replaced(yaml_, "token_keys: [k1]", "token_keys: [k1, missing]"));
  ControlDaemon d(dir_ / "control.yaml");
  std::string errors;
  EXPECT_FALSE(d.start(errors));
  EXPECT_EQ(errors, dir_ / "control.yaml" + ":9:20: ca.token_keys[1]: " + (dir_ / "missing") +
                        ": cannot read: No such file or directory\n");
}

TEST_F(CaDaemonTest, AReloadTakesNewPolicyAndRefusesNewKeys) {
  ControlDaemon d(dir_ / "control.yaml");
  std::string errors;
  ASSERT_TRUE(d.start(errors)) << errors;
  auto before = d.certificateAuthority();
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->authority->generatedRoot());
  const std::string path = dir_ / "control.yaml";

  // TTLs and token keys: applied, the same root kept.
  write(replaced(replaced(yaml_, "max_ttl: 2h", "max_ttl: 3h"), "token_keys: [k1]", "token_keys: [k2]"));
  d.reloadNow();
  auto after = d.certificateAuthority();
  ASSERT_NE(after, before);
  EXPECT_EQ(after->spec.max_ttl, 3h);
  EXPECT_EQ(after->authority->trustBundle(), before->authority->trustBundle());
  EXPECT_TRUE(after->tokens->verify(ca::mintToken("second-key-long-enough", {"default", "web"})).identity);
  EXPECT_FALSE(after->tokens->verify(ca::mintToken("first-key-long-enough", {"default", "web"})).identity);
  EXPECT_EQ(status(d)["last_rejection"], nullptr);

  // Another trust domain: refused whole, the CA unchanged.
  write(replaced(yaml_, "trust_domain: cluster.local", "trust_domain: other.local"));
  d.reloadNow();
  EXPECT_EQ(d.certificateAuthority(), after);
  EXPECT_EQ(status(d)["last_rejection"]["errors"],
            nlohmann::json::array({path + ":5:3: ca.trust_domain: changing it takes a restart of sluice-control (the "
                                          "running CA keeps its keys)"}));
  // Removing it: refused too.
  write("ads: {address: 127.0.0.1:0}\nadmin: {address: 127.0.0.1:0}\ngroups: []\n");
  d.reloadNow();
  EXPECT_EQ(d.certificateAuthority(), after);
  EXPECT_EQ(status(d)["last_rejection"]["errors"],
            nlohmann::json::array({path + ": ca: removing the CA takes a restart of sluice-control"}));
  d.stop();
}

}  // namespace
}  // namespace sluice::control
