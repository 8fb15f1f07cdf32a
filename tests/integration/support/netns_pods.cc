#include "tests/integration/support/netns_pods.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <tuple>

#include "tests/integration/support/tls_setup.h"

namespace sluice::itest {

using namespace std::chrono_literals;

void NetnsPods::makePods(const Addresses& a) {
  const bool v6 = !a.v6_a.empty();
  std::vector<std::string> v6_tools;
  if (v6) v6_tools = {"ip6tables-restore", "ip6tables-save"};
  if (const std::string why = netnsUnavailable(v6_tools); !why.empty())
    GTEST_SKIP() << "transparent capture test: " << why;
  const std::string id = std::to_string(::getpid());
  ns_a_ = "sluice-pod-a-" + id;
  ns_b_ = "sluice-pod-b-" + id;
  veth_a_ = "spoda" + id;  // at most 15 characters
  const std::string veth_b = "spodb" + id;
  if (!addNamespace(ns_a_)) GTEST_SKIP() << "cannot create a network namespace here (no CAP_SYS_ADMIN?)";
  ASSERT_TRUE(addNamespace(ns_b_));
  ASSERT_TRUE(addVeth(veth_a_, ns_a_, veth_b, ns_b_));
  for (const auto& [ns, dev, ip4, ip6] :
       {std::tuple{ns_a_, veth_a_, a.v4_a, a.v6_a}, std::tuple{ns_b_, veth_b, a.v4_b, a.v6_b}}) {
    ASSERT_TRUE(sh({tool("ip"), "-n", ns, "addr", "add", ip4 + "/24", "dev", dev}));
    if (v6 && !ran(runCommand({tool("ip"), "-n", ns, "addr", "add", ip6 + "/64", "dev", dev, "nodad"}, 5s)))
      GTEST_SKIP() << "cannot give a veth an IPv6 address here (IPv6 disabled in new namespaces?)";
    ASSERT_TRUE(sh({tool("ip"), "-n", ns, "link", "set", dev, "up"}));
    ASSERT_TRUE(sh({tool("ip"), "-n", ns, "link", "set", "lo", "up"}));
  }
  if (!ran(runCommand(inNs(ns_a_, {tool("iptables-save"), "-t", "nat"}), 10s)))
    GTEST_SKIP() << "iptables cannot reach the nat table here (no NET_ADMIN, or no nf_tables/ip_tables module)";
  if (v6 && !ran(runCommand(inNs(ns_a_, {tool("ip6tables-save"), "-t", "nat"}), 10s)))
    GTEST_SKIP() << "ip6tables cannot reach the IPv6 nat table here (no nf_tables/ip6_tables module)";

  // Files the sidecars (uid 1337) read and write.
  ::chmod(dir_.path().c_str(), 0755);
  std::filesystem::create_directory(dir_.path() + "/logs");
  ::chmod((dir_.path() + "/logs").c_str(), 0777);
}

::testing::AssertionResult NetnsPods::copyPki() {
  if (!pki().ok()) return ::testing::AssertionFailure() << "the test PKI could not be generated";
  for (const char* f : {"root.crt", "sidecar-a.crt", "sidecar-a.key", "sidecar-b.crt", "sidecar-b.key"}) {
    const std::string to = dir_.path() + "/" + f;
    std::filesystem::copy_file(pkiPath(f), to, std::filesystem::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0644);  // test keys: readable by the sidecars' uid
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult NetnsPods::startSidecar(const std::string& name, const std::string& ns,
                                                   const std::string& yaml,
                                                   const std::vector<std::string>& rule_flags) {
  std::vector<std::string> rules = inNs(ns, {proxyBinary(), "iptables"});
  rules.insert(rules.end(), rule_flags.begin(), rule_flags.end());
  if (auto r = sh(rules); !r) return r;
  const std::string config = dir_.write(name + ".yaml", yaml);
  ::chmod(config.c_str(), 0644);
  auto r = start(name, ns, {"setpriv", "--reuid=1337", "--regid=1337", "--clear-groups", proxyBinary(), "-c", config});
  if (!r) return r;
  const std::vector<std::string> ready_check =
      inNs(ns, {"curl", "-sf", "--max-time", "2", "-o", "/dev/null", "http://127.0.0.1:15020/ready"});
  const bool ready = waitUntil(
      [&] { return ran(runCommand(ready_check, 5s)) && admin(ns, "/listeners").find(":1500") != std::string::npos; },
      10s);
  if (!ready) return ::testing::AssertionFailure() << name << " admin never answered: " << stderrOf(name);
  return ::testing::AssertionSuccess();
}

std::string NetnsPods::admin(const std::string& ns, const std::string& path) {
  CommandResult r = runCommand(inNs(ns, {"curl", "-sS", "--max-time", "3", "http://127.0.0.1:15020" + path}), 5s);
  return ran(r) ? r.out : "";
}

double NetnsPods::metric(const std::string& ns, const std::string& name, const Labels& labels) {
  return findMetric(admin(ns, "/metrics"), name, labels).value_or(-1);
}

long long NetnsPods::ruleCount(const std::string& ns, const std::string& chain, const std::string& rule, bool v6) {
  CommandResult r = runCommand(inNs(ns, {tool(v6 ? "ip6tables-save" : "iptables-save"), "-c", "-t", "nat"}), 5s);
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.find("-A " + chain + " ") == std::string::npos || line.find(rule) == std::string::npos) continue;
    long long packets = -1, bytes = 0;
    if (std::sscanf(line.c_str(), "[%lld:%lld]", &packets, &bytes) == 2) return packets;
  }
  return -1;
}

}  // namespace sluice::itest
