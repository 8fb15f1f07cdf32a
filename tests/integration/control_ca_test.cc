// The mesh CA in the real sluice-control: an independent client (Node's
// @grpc/grpc-js loading certificate_service.proto) sends a CSR made by the
// real `openssl req` with a bootstrap token minted by `sluice-control
// token`, and `openssl verify` / `openssl x509` check what came back; bad
// tokens and CSRs are refused with their status; a restart keeps the root;
// a CA that cannot be built keeps the daemon from starting.

#include <signal.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/grpc_node.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

CommandResult control(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SLUICE_CONTROL_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, 10s);
}

CommandResult openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, 20s);
}

class ControlCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(haveGrpcNodeDeps());
    ASSERT_TRUE(haveExecutable("openssl"));
    key_ = dir_.write("token.key", "an-operator-key-of-enough-length\n");
    other_key_ = dir_.write("other.key", "some-other-key-of-enough-length\n");
    yaml_ = "ads: {address: 127.0.0.1:0}\nadmin: {address: 127.0.0.1:0}\ngroups: []\nca:\n"
            "  trust_domain: cluster.local\n  dir: " + dir_.path() + "/state\n  token_keys: [" + key_ + "]\n";
  }

  std::string token(const std::string& key, const std::string& ns, const std::string& sa) {
    const CommandResult r = control({"token", "--key", key, "--namespace", ns, "--service-account", sa});
    EXPECT_TRUE(exitedWith(r.status, 0)) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  // A key and a CSR made by openssl, asking for names the CA must ignore.
  std::string csr(const std::string& name) {
    const std::string path = dir_.path() + "/" + name + ".csr";
    const CommandResult r =
        openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                 dir_.path() + "/" + name + ".key", "-out", path, "-subj", "/O=evil/CN=admin", "-addext",
                 "subjectAltName=URI:spiffe://evil/ns/kube-system/sa/admin,DNS:admin.evil.example"});
    EXPECT_TRUE(exitedWith(r.status, 0)) << r.err;
    return path;
  }

  json call(const ControlDaemonProcess& d, const std::string& csr_path, const std::string& tok,
            const std::string& validity = "0") {
    std::vector<std::string> argv = nodeScript("ca_client.js");
    argv.insert(argv.end(), {d.adsAddress(), csr_path, tok, validity});
    const CommandResult r = runCommand(argv, 30s);
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out << r.err;
    return j.is_object() ? j : json{{"code", -1}};
  }

  // `openssl verify -CAfile ROOT LEAF` on the chain's leaf, written to a file.
  CommandResult verify(const json& reply, const std::string& root, const std::string& name) {
    const std::string leaf = dir_.write(name + ".pem", reply["cert_chain"][0].get<std::string>());
    return openssl({"verify", "-CAfile", root, leaf});
  }

  TempDir dir_;
  std::string key_, other_key_, yaml_;
};

TEST_F(ControlCaTest, IssuesACertificateOpensslVerifiesWithOnlyTheTokensIdentity) {
  ControlDaemonProcess d(yaml_);
  ASSERT_TRUE(d.start());
  const json reply = call(d, csr("web"), token(key_, "default", "web"), "3600");
  ASSERT_EQ(reply["code"], 0) << reply.dump();
  ASSERT_EQ(reply["cert_chain"].size(), 1u);
  ASSERT_EQ(reply["trust_bundle"].size(), 1u);
  const std::string root = dir_.path() + "/state/root.pem";
  EXPECT_EQ(reply["trust_bundle"][0], readFile(root));
  const CommandResult v = verify(reply, root, "leaf");
  EXPECT_TRUE(exitedWith(v.status, 0)) << v.out << v.err;
  EXPECT_EQ(v.out, dir_.path() + "/leaf.pem: OK\n");
  const CommandResult san = openssl({"x509", "-noout", "-ext", "subjectAltName", "-in", dir_.path() + "/leaf.pem"});
  EXPECT_EQ(san.out, "X509v3 Subject Alternative Name: critical\n    URI:spiffe://cluster.local/ns/default/sa/web\n");
  const CommandResult subject = openssl({"x509", "-noout", "-subject", "-in", dir_.path() + "/leaf.pem"});
  EXPECT_EQ(subject.out, "subject=\n");
  EXPECT_TRUE(d.waitMetricEq("sluice_control_ca_certificates_issued_total", {}, 1));
  const auto expiry = d.metric("sluice_control_ca_root_expiry_seconds");
  ASSERT_TRUE(expiry);
  EXPECT_GT(*expiry, 3650.0 * 86400 - 600);
  // The daemon's log names the issuance.
  EXPECT_NE(d.stderrText().find("ca: issued spiffe://cluster.local/ns/default/sa/web serial "), std::string::npos);
}

TEST_F(ControlCaTest, RefusesMissingAndBadTokensAndBadCsrs) {
  ControlDaemonProcess d(yaml_);
  ASSERT_TRUE(d.start());
  const std::string request = csr("web");
  json reply = call(d, request, "-");
  EXPECT_EQ(reply["code_name"], "UNAUTHENTICATED") << reply.dump();
  EXPECT_EQ(reply["details"], "no authorization metadata: send 'authorization: Bearer <token>'");
  reply = call(d, request, token(other_key_, "default", "web"));
  EXPECT_EQ(reply["code_name"], "UNAUTHENTICATED") << reply.dump();
  EXPECT_EQ(reply["details"], "bad bootstrap token: token signature matches no configured key");
  EXPECT_TRUE(reply["cert_chain"].empty());
  const std::string garbage = dir_.write("garbage.csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END "
                                                        "CERTIFICATE REQUEST-----\n");
  reply = call(d, garbage, token(key_, "default", "web"));
  EXPECT_EQ(reply["code_name"], "INVALID_ARGUMENT") << reply.dump();
  EXPECT_EQ(reply["details"], "not a PEM certificate request");
  EXPECT_TRUE(d.waitMetricEq("sluice_control_ca_issue_failures_total", {{"reason", "unauthenticated"}}, 2));
  EXPECT_TRUE(d.waitMetricEq("sluice_control_ca_issue_failures_total", {{"reason", "bad_csr"}}, 1));
  EXPECT_TRUE(d.waitMetricEq("sluice_control_ca_certificates_issued_total", {}, 0));
}

TEST_F(ControlCaTest, ARestartKeepsTheRoot) {
  const std::string root = dir_.path() + "/state/root.pem";
  std::string first_root;
  {
    ControlDaemonProcess d(yaml_);
    ASSERT_TRUE(d.start());
    const json reply = call(d, csr("a"), token(key_, "default", "a"));
    ASSERT_EQ(reply["code"], 0) << reply.dump();
    first_root = dir_.write("first-root.pem", readFile(root));
    EXPECT_TRUE(exitedWith(verify(reply, first_root, "a-leaf").status, 0));
    ASSERT_TRUE(d.signal(SIGTERM));
    EXPECT_TRUE(exitedWith(d.waitExit(10s), 0));
  }
  ControlDaemonProcess again(yaml_);
  ASSERT_TRUE(again.start());
  const json reply = call(again, csr("b"), token(key_, "default", "b"));
  ASSERT_EQ(reply["code"], 0) << reply.dump();
  EXPECT_EQ(readFile(root), readFile(first_root));
  EXPECT_EQ(reply["trust_bundle"][0], readFile(first_root));
  const CommandResult v = verify(reply, first_root, "b-leaf");
  EXPECT_TRUE(exitedWith(v.status, 0)) << v.out << v.err;
  EXPECT_NE(again.stderrText().find("root loaded from " + dir_.path() + "/state"), std::string::npos)
      << again.stderrText();
}

TEST_F(ControlCaTest, ACaThatCannotBeBuiltKeepsTheDaemonFromStarting) {
  // An operator root whose key file holds another key.
  const CommandResult r = openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                   "-days", "30", "-subj", "/O=op/CN=root", "-keyout", dir_.path() + "/root.key",
                                   "-out", dir_.path() + "/root.pem", "-addext", "basicConstraints=critical,CA:TRUE"});
  ASSERT_TRUE(exitedWith(r.status, 0)) << r.err;
  const CommandResult k = openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                                   dir_.path() + "/wrong.key"});
  ASSERT_TRUE(exitedWith(k.status, 0)) << k.err;
  const std::string path = dir_.write(
      "control.yaml", yaml_ + "  root: {cert: root.pem, key: wrong.key}\n");
  const CommandResult run = control({"-c", path});
  EXPECT_TRUE(exitedWith(run.status, 1)) << run.err;
  EXPECT_EQ(run.err, path + ":8:31: ca.root.key: " + dir_.path() + "/wrong.key: not the key of the certificate "
                     "beside it\n");
}

TEST_F(ControlCaTest, TokenSubcommandMintsAndChecksNames) {
  const std::string t = token(key_, "payments", "api");
  ASSERT_EQ(t.size(), std::string("v1/payments/api/").size() + 64) << t;
  EXPECT_EQ(t.rfind("v1/payments/api/", 0), 0u);
  const CommandResult bad = control({"token", "--key", key_, "--namespace", "Payments", "--service-account", "api"});
  EXPECT_TRUE(exitedWith(bad.status, 2));
  EXPECT_EQ(bad.err.rfind("sluice-control: namespace 'Payments' may hold only lower-case letters", 0), 0u) << bad.err;
  const CommandResult missing = control({"token", "--key", dir_.path() + "/none", "--namespace", "a",
                                         "--service-account", "b"});
  EXPECT_TRUE(exitedWith(missing.status, 1));
  EXPECT_EQ(missing.err, "sluice-control: " + dir_.path() + "/none: cannot read: No such file or directory\n");
}

}  // namespace
}  // namespace sluice::itest
