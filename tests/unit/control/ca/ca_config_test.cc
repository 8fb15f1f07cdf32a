// control.yaml's `ca:` block: every field read, paths taken from the file's
// folder, and each mistake reported as file:line:col: path: message with
// no config at all.

#include "control/ca/ca_config.h"

#include <gtest/gtest.h>

#include "control/control_config.h"

namespace sluice::control::ca {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> errorsOf(const std::string& yaml) {
  const ControlLoadResult r = loadControlString(yaml, "deploy/control.yaml");
  EXPECT_EQ(r.config == nullptr, !r.errors.empty());
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.str());
  return out;
}

TEST(CaConfigTest, ReadsEveryFieldWithPathsFromTheFilesFolder) {
  const ControlLoadResult r = loadControlString(R"(groups: []
ca:
  trust_domain: cluster.local
  dir: state
  root: {cert: root.pem, key: /etc/ca/root.key}
  intermediate: {cert: inter.pem, key: inter.key}
  extra_roots: [old-root.pem]
  default_ttl: 12h
  max_ttl: 48h
  token_keys: [keys/k1, keys/k2]
)",
                                                "deploy/control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  ASSERT_TRUE(r.config->ca);
  const CaSpec& ca = *r.config->ca;
  EXPECT_EQ(ca.trust_domain, "cluster.local");
  EXPECT_EQ(ca.dir.path, "deploy/state");
  ASSERT_TRUE(ca.root);
  EXPECT_EQ(ca.root->cert.path, "deploy/root.pem");
  EXPECT_EQ(ca.root->key.path, "/etc/ca/root.key");
  EXPECT_EQ(ca.root->cert.loc.line, 5);
  ASSERT_TRUE(ca.intermediate);
  EXPECT_EQ(ca.intermediate->key.path, "deploy/inter.key");
  ASSERT_EQ(ca.extra_roots.size(), 1u);
  EXPECT_EQ(ca.extra_roots[0].path, "deploy/old-root.pem");
  EXPECT_EQ(ca.default_ttl, 12h);
  EXPECT_EQ(ca.max_ttl, 48h);
  ASSERT_EQ(ca.token_keys.size(), 2u);
  EXPECT_EQ(ca.token_keys[1].path, "deploy/keys/k2");
  EXPECT_EQ(ca.token_keys[1].loc.line, 10);
  EXPECT_EQ(ca.token_keys[1].loc.column, 25);
}

TEST(CaConfigTest, DefaultsAndAbsence) {
  ControlLoadResult r = loadControlString("groups: []\n", "control.yaml");
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(r.config->ca);
  r = loadControlString("ca: {trust_domain: mesh.example, token_keys: [k]}\n", "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  EXPECT_EQ(r.config->ca->dir.path, "ca-state");
  EXPECT_FALSE(r.config->ca->root);
  EXPECT_EQ(r.config->ca->default_ttl, 24h);
  EXPECT_EQ(r.config->ca->max_ttl, 24h);
}

// The CA's own port: TLS with names of its own, or the operator's files,
// or plaintext only when asked; a change to it takes a restart.
TEST(CaConfigTest, TheCaPortAndItsCertificate) {
  ControlLoadResult r = loadControlString("ca: {trust_domain: mesh.example, token_keys: [k]}\n", "control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const CaServing defaults = r.config->ca->serving;
  EXPECT_EQ(defaults.address, "127.0.0.1:15012");
  EXPECT_FALSE(defaults.plaintext);
  EXPECT_EQ(defaults.dns_names, std::vector<std::string>{"localhost"});
  EXPECT_EQ(defaults.ip_addresses, std::vector<std::string>{"127.0.0.1"});
  r = loadControlString(R"(ca:
  trust_domain: mesh.example
  token_keys: [k]
  address: 0.0.0.0:0
  tls:
    dns_names: [sluice-control.sluice-system.svc]
    ip_addresses: [10.0.0.7, "::1"]
    certificate_ttl: 2h
    cert_file: tls.crt
    key_file: /etc/tls.key
)",
                        "deploy/control.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  const CaServing& s = r.config->ca->serving;
  EXPECT_EQ(s.address, "0.0.0.0:0");
  EXPECT_EQ(s.dns_names, std::vector<std::string>{"sluice-control.sluice-system.svc"});
  EXPECT_EQ(s.ip_addresses, (std::vector<std::string>{"10.0.0.7", "::1"}));
  EXPECT_EQ(s.certificate_ttl, 2h);
  ASSERT_TRUE(s.cert_file && s.key_file);
  EXPECT_EQ(s.cert_file->path, "deploy/tls.crt");
  EXPECT_EQ(s.key_file->path, "/etc/tls.key");
  CaSpec moved = *r.config->ca;
  moved.serving.address = "0.0.0.0:15012";
  EXPECT_EQ(r.config->ca->restartNeededFor(moved), "ca.address");

  const std::string head = "ca:\n  trust_domain: mesh.example\n  token_keys: [k]\n";
  EXPECT_EQ(errorsOf(head + "  tls: {dns_names: [Bad_Name], ip_addresses: [300.1.1.1]}\n"),
            (std::vector<std::string>{
                "deploy/control.yaml:4:21: ca.tls.dns_names[0]: expected a DNS name (lower-case labels: "
                "'sluice-control.sluice-system.svc')",
                "deploy/control.yaml:4:47: ca.tls.ip_addresses[0]: expected an IP address ('127.0.0.1')"}));
  EXPECT_EQ(
      errorsOf(head + "  tls: {cert_file: a.crt}\n"),
      (std::vector<std::string>{"deploy/control.yaml:4:8: ca.tls: needs both cert_file and key_file, or neither"}));
  EXPECT_EQ(
      errorsOf(head + "  tls: {dns_names: [], ip_addresses: []}\n"),
      (std::vector<std::string>{
          "deploy/control.yaml:4:8: ca.tls: needs a name for the serving certificate: dns_names or ip_addresses"}));
  EXPECT_EQ(errorsOf(head + "  plaintext: true\n  tls: {dns_names: [a]}\n"),
            (std::vector<std::string>{
                "deploy/control.yaml:5:8: ca.tls: plaintext: true serves no certificate: drop one of them"}));
}

TEST(CaConfigTest, EveryMistakeAtItsPosition) {
  EXPECT_EQ(
      errorsOf(R"(ca:
  trust_domain: Cluster.Local
  default_ttl: 30s
  max_ttl: 10s
  token_keys: []
  extra_roots: [{}]
  rooot: {cert: r.pem}
)"),
      (std::vector<std::string>{
          "deploy/control.yaml:2:17: ca.trust_domain: 'Cluster.Local' is not a SPIFFE trust domain: trust "
          "domain must be lower case",
          "deploy/control.yaml:3:16: ca.default_ttl: must be at least 1m",
          "deploy/control.yaml:4:12: ca.max_ttl: must be at least 1m",
          "deploy/control.yaml:5:15: ca.token_keys: needs at least one key file (bootstrap tokens are signed with "
          "it)",
          "deploy/control.yaml:6:17: ca.extra_roots[0]: expected a file path",
          "deploy/control.yaml:7:3: ca: unknown field 'rooot'; did you mean 'root'?",
      }));
  EXPECT_EQ(errorsOf(R"(ca:
  default_ttl: 2h
  max_ttl: 1h
  intermediate: {cert: i.pem}
  token_keys: [k]
)"),
            (std::vector<std::string>{
                "deploy/control.yaml:2:3: ca.trust_domain: missing required field",
                "deploy/control.yaml:2:16: ca.default_ttl: must not exceed max_ttl",
                "deploy/control.yaml:4:17: ca.intermediate.key: missing required field",
                "deploy/control.yaml:4:17: ca.intermediate: needs 'root' (the root it chains to)",
            }));
  EXPECT_EQ(errorsOf("ca: {trust_domain: td, root: {cert: r.pem}, token_keys: [k]}\n"),
            (std::vector<std::string>{"deploy/control.yaml:1:30: ca.root.key: missing required field"}));
  EXPECT_EQ(errorsOf("ca: {trust_domain: td, dir: '', token_keys: [k]}\n"),
            (std::vector<std::string>{"deploy/control.yaml:1:29: ca.dir: must not be empty"}));
}

TEST(CaConfigTest, WhatARunningCaCannotTakeWithoutARestart) {
  CaSpec a;
  a.trust_domain = "td";
  a.dir.path = "s";
  CaSpec b = a;
  b.max_ttl = 2h;
  b.extra_roots.push_back(FileRef{"old.pem", {}});
  b.token_keys.push_back(FileRef{"k2", {}});
  EXPECT_EQ(a.restartNeededFor(b), "");
  b.dir.path = "t";
  EXPECT_EQ(a.restartNeededFor(b), "ca.dir");
  b = a;
  b.trust_domain = "other";
  EXPECT_EQ(a.restartNeededFor(b), "ca.trust_domain");
  b = a;
  b.root = CertKeyFiles{FileRef{"r.pem", {}}, FileRef{"r.key", {}}};
  EXPECT_EQ(a.restartNeededFor(b), "ca.root");
  b = a;
  b.intermediate = CertKeyFiles{};
  EXPECT_EQ(a.restartNeededFor(b), "ca.intermediate");
}

}  // namespace
}  // namespace sluice::control::ca
