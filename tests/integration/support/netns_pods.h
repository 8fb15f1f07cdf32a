#pragma once
// Two "pods" for transparent-capture tests: network namespaces A and B
// joined by a veth pair, with IPv4 addresses and, when asked, IPv6 ones
// (added `nodad`, usable at once). A test starts processes in them (apps,
// sidecars as uid 1337 behind the real `sluice iptables` rules, curl as the
// client app) and reads the sidecars' admin, metrics and the nat tables'
// counters. Everything made is removed by TearDown, pass or fail: every
// process in the namespaces, then the namespaces (the veth goes with them).
//
// Needs root and ip, setpriv, curl and the iptables (and, for IPv6,
// ip6tables) binaries: SetUp skips with the missing piece named otherwise.
// Names carry the test process's pid, unique under ctest -j; every port is
// inside the namespaces.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

// A Python app (argv: port, name) on [::] (dual-stack) answering every GET
// with "server: <name>" and the request headers it received, one
// "name: value" line each: how a test sees what reached the app (the
// x-forwarded-client-cert a sidecar set, say). Prints "listening on PORT".
extern const char* const kHeaderEchoApp;

// An iptables-family binary: /usr/sbin, which a test's PATH may lack, else PATH.
std::string sbinTool(const std::string& name);
// The command ran and exited 0.
bool exitedZero(const CommandResult& r);
// "argv... -> exit status\nstdout stderr", for failure messages.
std::string describeRun(const std::vector<std::string>& argv, const CommandResult& r);
// argv run inside network namespace `ns`.
std::vector<std::string> inNetns(const std::string& ns, std::vector<std::string> argv);

class NetnsPods : public ::testing::Test {
 protected:
  struct Addresses {
    std::string v4_a, v4_b;  // "10.x.y.1", "10.x.y.2" (/24)
    std::string v6_a, v6_b;  // "fd00:...::1", "fd00:...::2" (/64); empty: no IPv6
  };
  // Makes both pods (skips when the machine cannot). Call from SetUp.
  void makePods(const Addresses& addresses);
  void TearDown() override;

  ::testing::AssertionResult sh(const std::vector<std::string>& argv, Millis timeout = Millis(10000));
  // Starts argv in `ns`; waits for `ready_marker` on its stdout when given.
  ::testing::AssertionResult start(const std::string& name, const std::string& ns, std::vector<std::string> argv,
                                   const std::string& ready_marker = "");
  // `sluice iptables <rule_flags>` in `ns`, then sluice as uid 1337 with
  // `yaml` (admin on 127.0.0.1:15020), until its admin is ready and it
  // lists a capture listener.
  ::testing::AssertionResult startSidecar(const std::string& name, const std::string& ns, const std::string& yaml,
                                          const std::vector<std::string>& rule_flags);
  std::string stderrOf(const std::string& name);
  // GET on a sidecar's admin port from inside its pod ("" when it fails).
  std::string admin(const std::string& ns, const std::string& path);
  // A sidecar's metric; -1 when absent.
  double metric(const std::string& ns, const std::string& name, const Labels& labels);
  // Packets counted by the rule of `chain` whose text contains `rule`, from
  // `iptables-save -c` (ip6tables-save when `v6`) in `ns`; -1: no such rule.
  long long ruleCount(const std::string& ns, const std::string& chain, const std::string& rule, bool v6);
  // Copies the test PKI's root and sidecar a/b certificates and keys into
  // the temp dir, readable by the sidecars' uid.
  ::testing::AssertionResult copyPki();

  TempDir dir_;
  std::string ns_a_, ns_b_, veth_a_;

 private:
  bool made_a_ = false, made_b_ = false;
  std::vector<pid_t> children_;
  std::vector<std::pair<std::string, std::string>> logs_;
};

}  // namespace sluice::itest
