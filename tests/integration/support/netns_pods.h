#pragma once
// Two "pods" for transparent-capture tests: network namespaces A and B
// joined by a veth pair, with IPv4 addresses and, when asked, IPv6 ones
// (added `nodad`, usable at once). A test starts processes in them (apps,
// sidecars as uid 1337 behind the real `sluice iptables` rules, curl as the
// client app) and reads the sidecars' admin, metrics and the nat tables'
// counters. The namespaces, the processes and their removal are
// NetnsTest's (netns.h): TearDown removes everything, pass or fail.
//
// Needs root and ip, setpriv, curl and the iptables (and, for IPv6,
// ip6tables) binaries: makePods skips with the missing piece named
// otherwise. Names carry the test process's pid, unique under ctest -j;
// every port is inside the namespaces.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/support/netns.h"

namespace sluice::itest {

class NetnsPods : public NetnsTest {
 protected:
  struct Addresses {
    std::string v4_a, v4_b;  // "10.x.y.1", "10.x.y.2" (/24)
    std::string v6_a, v6_b;  // "fd00:...::1", "fd00:...::2" (/64); empty: no IPv6
  };
  // Makes both pods (skips when the machine cannot). Call from SetUp.
  void makePods(const Addresses& addresses);

  // `sluice iptables <rule_flags>` in `ns`, then sluice as uid 1337 with
  // `yaml` (admin on 127.0.0.1:15020), until its admin is ready and it
  // lists a capture listener.
  ::testing::AssertionResult startSidecar(const std::string& name, const std::string& ns, const std::string& yaml,
                                          const std::vector<std::string>& rule_flags);
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

  std::string ns_a_, ns_b_, veth_a_;
};

}  // namespace sluice::itest
