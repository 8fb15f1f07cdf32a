// The mesh CA in the real sluice-control: an independent client (Node's
// @grpc/grpc-js loading certificate_service.proto) sends a CSR made by the
// real `openssl req` with a bootstrap token minted by `sluice-control
// token`, and `openssl verify` / `openssl x509` check what came back; bad
// tokens and CSRs are refused with their status; a restart keeps the root;
// a CA that cannot be built keeps the daemon from starting.

#include <gtest/gtest.h>
#include <signal.h>

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
    yaml_ =
        "ads: {address: 127.0.0.1:0}\nadmin: {address: 127.0.0.1:0}\ngroups: []\nca:\n"
        "  trust_domain: cluster.local\n  dir: " +
        dir_.path() + "/state\n  token_keys: [" + key_ +
        "]\n"
        "  address: 127.0.0.1:0\n";
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
    argv.insert(argv.end(), {d.caAddress(), dir_.path() + "/state/root.pem", csr_path, tok, validity});
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
  const std::string garbage = dir_.write("garbage.csr",
                                         "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END "
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
  const CommandResult k = openssl(
      {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", dir_.path() + "/wrong.key"});
  ASSERT_TRUE(exitedWith(k.status, 0)) << k.err;
  const std::string path = dir_.write("control.yaml", yaml_ + "  root: {cert: root.pem, key: wrong.key}\n");
  const CommandResult run = control({"-c", path});
  EXPECT_TRUE(exitedWith(run.status, 1)) << run.err;
  EXPECT_EQ(run.err, path + ":9:31: ca.root.key: " + dir_.path() +
                         "/wrong.key: not the key of the certificate "
                         "beside it\n");
}

// The CA's port is TLS: its certificate, issued by the mesh CA for the
// configured names, chains to the mesh root (openssl s_client verifies it),
// and a plaintext client gets nowhere.
TEST_F(ControlCaTest, TheCaPortServesTlsChainingToTheMeshRootWithTheConfiguredNames) {
  ControlDaemonProcess d(yaml_ + "  tls: {dns_names: [ca.mesh.test, localhost], ip_addresses: [127.0.0.1]}\n");
  ASSERT_TRUE(d.start());
  const std::string root = dir_.path() + "/state/root.pem";
  const std::string connect = "openssl s_client -connect " + d.caAddress() + " -CAfile " + root +
                              " -verify_return_error -verify_hostname ca.mesh.test </dev/null 2>&1";
  const CommandResult chat = runCommand({"sh", "-c", connect}, 20s);
  EXPECT_NE(chat.out.find("Verify return code: 0 (ok)"), std::string::npos) << chat.out;
  const CommandResult leaf =
      runCommand({"sh", "-c", connect + " | openssl x509 -noout -ext subjectAltName,basicConstraints"}, 20s);
  EXPECT_NE(leaf.out.find("DNS:ca.mesh.test, DNS:localhost, IP Address:127.0.0.1"), std::string::npos) << leaf.out;
  EXPECT_NE(leaf.out.find("CA:FALSE"), std::string::npos) << leaf.out;
  // Against another root, the same handshake fails.
  const CommandResult other =
      openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj",
               "/CN=other", "-keyout", dir_.path() + "/other.key", "-out", dir_.path() + "/other.pem"});
  ASSERT_TRUE(exitedWith(other.status, 0)) << other.err;
  const CommandResult wrong = runCommand({"sh", "-c",
                                          "openssl s_client -connect " + d.caAddress() + " -CAfile " + dir_.path() +
                                              "/other.pem -verify_return_error </dev/null 2>&1"},
                                         20s);
  EXPECT_EQ(wrong.out.find("Verify return code: 0 (ok)"), std::string::npos) << wrong.out;

  // grpc-js over TLS with the root: a certificate; in plaintext: refused at the transport.
  const json good = call(d, csr("web"), token(key_, "default", "web"));
  EXPECT_EQ(good["code"], 0) << good.dump();
  std::vector<std::string> argv = nodeScript("ca_client.js");
  argv.insert(argv.end(), {d.caAddress(), "-", csr("plain"), token(key_, "default", "web")});
  const json plain = json::parse(runCommand(argv, 30s).out, nullptr, false);
  ASSERT_TRUE(plain.is_object());
  EXPECT_EQ(plain["code_name"], "UNAVAILABLE") << plain.dump();
  EXPECT_TRUE(d.waitMetricEq("sluice_control_ca_certificates_issued_total", {}, 1));
}

TEST_F(ControlCaTest, PlaintextOnlyWhenBothSidesSayIt) {
  ControlDaemonProcess d(yaml_ + "  plaintext: true\n");
  ASSERT_TRUE(d.start());
  std::vector<std::string> argv = nodeScript("ca_client.js");
  argv.insert(argv.end(), {d.caAddress(), "-", csr("plain"), token(key_, "default", "web")});
  const json plain = json::parse(runCommand(argv, 30s).out, nullptr, false);
  ASSERT_TRUE(plain.is_object());
  EXPECT_EQ(plain["code"], 0) << plain.dump();
  EXPECT_NE(d.stderrText().find("plaintext (ca.plaintext): bootstrap and service-account tokens cross the network in "
                                "the clear"),
            std::string::npos)
      << d.stderrText();
}

// The proxy's certificate agent: over TLS with the mesh root it gets its
// certificate; with a wrong root every call fails at the handshake, is
// logged with the handshake's reason, counted, and tried again.
TEST_F(ControlCaTest, AProxyGetsItsCertificateOverTlsAndAWrongRootFailsAndRetries) {
  ControlDaemonProcess d(yaml_);
  ASSERT_TRUE(d.start());
  const std::string token_file = dir_.write("web.token", token(key_, "default", "web") + "\n");
  auto proxy = [&](const std::string& root) {
    return "admin: {address: 127.0.0.1:0}\nworkers: 1\ndynamic:\n  ca:\n    address: " + d.caAddress() +
           "\n    root_file: " + root + "\n    token_file: " + token_file + "\n";
  };
  ProxyProcess good(proxy(dir_.path() + "/state/root.pem"));
  ASSERT_TRUE(good.start());
  EXPECT_TRUE(good.waitMetricEq("sluice_identity_certificate_requests_total", {{"result", "ok"}}, 1, 10s));
  // POST /certs/rotate answers the agent's state (and asks again).
  const json issued = json::parse(good.post("/certs/rotate").body, nullptr, false);
  ASSERT_TRUE(issued.is_object());
  EXPECT_EQ(issued.value("spiffe_id", ""), "spiffe://cluster.local/ns/default/sa/web") << issued.dump();

  const CommandResult other =
      openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj",
               "/CN=other", "-keyout", dir_.path() + "/other.key", "-out", dir_.path() + "/other.pem"});
  ASSERT_TRUE(exitedWith(other.status, 0)) << other.err;
  ProxyProcess wrong(proxy(dir_.path() + "/other.pem"));
  ASSERT_TRUE(wrong.start());
  // The first retry comes after about a second: two failures show it retries.
  EXPECT_TRUE(wrong.waitMetricAtLeast("sluice_identity_certificate_requests_total", {{"result", "error"}}, 2, 15s));
  const json status = json::parse(wrong.post("/certs/rotate").body, nullptr, false);
  ASSERT_TRUE(status.is_object());
  EXPECT_FALSE(status.value("issued", true));
  EXPECT_NE(status.value("last_error", "").find("CreateCertificate failed: UNAVAILABLE"), std::string::npos)
      << status.dump();
  EXPECT_NE(status.value("last_error", "").find("certificate verify failed"), std::string::npos) << status.dump();
  EXPECT_NE(status.value("last_error", "").find("TLS handshake with " + d.caAddress() + " failed"), std::string::npos)
      << status.dump();
  EXPECT_NE(wrong.stderrText().find("certificate agent: CreateCertificate failed: UNAVAILABLE"), std::string::npos)
      << wrong.stderrText();
  // The good proxy's two (its first, and the one /certs/rotate asked for); none for the wrong one.
  EXPECT_TRUE(d.waitMetricEq("sluice_control_ca_certificates_issued_total", {}, 2));
}

TEST_F(ControlCaTest, TokenSubcommandMintsAndChecksNames) {
  const std::string t = token(key_, "payments", "api");
  ASSERT_EQ(t.size(), std::string("v1/payments/api/").size() + 64) << t;
  EXPECT_EQ(t.rfind("v1/payments/api/", 0), 0u);
  const CommandResult bad = control({"token", "--key", key_, "--namespace", "Payments", "--service-account", "api"});
  EXPECT_TRUE(exitedWith(bad.status, 2));
  EXPECT_EQ(bad.err.rfind("sluice-control: namespace 'Payments' may hold only lower-case letters", 0), 0u) << bad.err;
  const CommandResult missing =
      control({"token", "--key", dir_.path() + "/none", "--namespace", "a", "--service-account", "b"});
  EXPECT_TRUE(exitedWith(missing.status, 1));
  EXPECT_EQ(missing.err, "sluice-control: " + dir_.path() + "/none: cannot read: No such file or directory\n");
}

}  // namespace
}  // namespace sluice::itest
