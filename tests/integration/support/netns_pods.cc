#include "tests/integration/support/netns_pods.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <tuple>

#include "tests/integration/support/tls_setup.h"

namespace sluice::itest {

using namespace std::chrono_literals;

const char* const kHeaderEchoApp = R"PY(import http.server, socket, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        lines = ["server: " + sys.argv[2]] + ["%s: %s" % (k.lower(), v) for k, v in self.headers.items()]
        body = "".join(l + "\n" for l in lines).encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class DualStack(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
server = DualStack(("::", int(sys.argv[1])), Echo)
print("listening on", sys.argv[1], flush=True)
server.serve_forever()
)PY";

std::string sbinTool(const std::string& name) {
  const std::string sbin = "/usr/sbin/" + name;
  return std::filesystem::exists(sbin) ? sbin : name;
}

bool exitedZero(const CommandResult& r) { return r.status && WIFEXITED(*r.status) && WEXITSTATUS(*r.status) == 0; }

std::string describeRun(const std::vector<std::string>& argv, const CommandResult& r) {
  std::string cmd;
  for (const auto& a : argv) cmd += a + " ";
  return cmd + "-> " + (r.status ? describeWaitStatus(*r.status) : std::string("timed out")) + "\n" + r.out + r.err;
}

std::vector<std::string> inNetns(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {sbinTool("ip"), "netns", "exec", ns});
  return argv;
}

void NetnsPods::makePods(const Addresses& a) {
  if (::geteuid() != 0) GTEST_SKIP() << "transparent capture needs root (network namespaces, iptables)";
  const bool v6 = !a.v6_a.empty();
  std::vector<std::string> tools = {"ip", "setpriv", "curl", "iptables-restore", "iptables-save"};
  if (v6) tools.insert(tools.end(), {"ip6tables-restore", "ip6tables-save"});
  for (const auto& t : tools)
    if (!haveExecutable(t) && !std::filesystem::exists("/usr/sbin/" + t))
      GTEST_SKIP() << "transparent capture test needs '" << t << "' (scripts/install-deps installs iptables)";
  const std::string id = std::to_string(::getpid());
  ns_a_ = "sluice-pod-a-" + id;
  ns_b_ = "sluice-pod-b-" + id;
  veth_a_ = "spoda" + id;  // at most 15 characters
  const std::string veth_b = "spodb" + id;
  if (!exitedZero(runCommand({sbinTool("ip"), "netns", "add", ns_a_}, 5s)))
    GTEST_SKIP() << "cannot create a network namespace here (no CAP_SYS_ADMIN?)";
  made_a_ = true;
  ASSERT_TRUE(sh({sbinTool("ip"), "netns", "add", ns_b_}));
  made_b_ = true;
  ASSERT_TRUE(sh({sbinTool("ip"), "link", "add", veth_a_, "type", "veth", "peer", "name", veth_b}));
  ASSERT_TRUE(sh({sbinTool("ip"), "link", "set", veth_a_, "netns", ns_a_}));
  ASSERT_TRUE(sh({sbinTool("ip"), "link", "set", veth_b, "netns", ns_b_}));
  for (const auto& [ns, dev, ip4, ip6] :
       {std::tuple{ns_a_, veth_a_, a.v4_a, a.v6_a}, std::tuple{ns_b_, veth_b, a.v4_b, a.v6_b}}) {
    ASSERT_TRUE(sh({sbinTool("ip"), "-n", ns, "addr", "add", ip4 + "/24", "dev", dev}));
    if (v6 && !exitedZero(runCommand({sbinTool("ip"), "-n", ns, "addr", "add", ip6 + "/64", "dev", dev, "nodad"}, 5s)))
      GTEST_SKIP() << "cannot give a veth an IPv6 address here (IPv6 disabled in new namespaces?)";
    ASSERT_TRUE(sh({sbinTool("ip"), "-n", ns, "link", "set", dev, "up"}));
    ASSERT_TRUE(sh({sbinTool("ip"), "-n", ns, "link", "set", "lo", "up"}));
  }
  if (!exitedZero(runCommand(inNetns(ns_a_, {sbinTool("iptables-save"), "-t", "nat"}), 10s)))
    GTEST_SKIP() << "iptables cannot reach the nat table here (no NET_ADMIN, or no nf_tables/ip_tables module)";
  if (v6 && !exitedZero(runCommand(inNetns(ns_a_, {sbinTool("ip6tables-save"), "-t", "nat"}), 10s)))
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

void NetnsPods::TearDown() {
  // Every process in our namespaces (ours only: the names are this
  // process's), then the namespaces, which takes the veth pair with them.
  for (const std::string& ns : {ns_a_, ns_b_}) {
    if (ns.empty()) continue;
    CommandResult pids = runCommand({sbinTool("ip"), "netns", "pids", ns}, 5s);
    std::istringstream in(pids.out);
    for (pid_t pid; in >> pid;) ::kill(pid, SIGKILL);
  }
  for (pid_t pid : children_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (::testing::Test::HasFailure())
    for (const auto& [name, path] : logs_) std::cerr << "--- " << name << " ---\n" << readFile(path) << "\n";
  if (made_a_) runCommand({sbinTool("ip"), "netns", "del", ns_a_}, 5s);
  if (made_b_) runCommand({sbinTool("ip"), "netns", "del", ns_b_}, 5s);
}

::testing::AssertionResult NetnsPods::sh(const std::vector<std::string>& argv, Millis timeout) {
  CommandResult r = runCommand(argv, timeout);
  if (exitedZero(r)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << describeRun(argv, r);
}

::testing::AssertionResult NetnsPods::start(const std::string& name, const std::string& ns,
                                            std::vector<std::string> argv, const std::string& ready_marker) {
  const std::string out = dir_.path() + "/" + name + ".out", err = dir_.path() + "/" + name + ".err";
  logs_.emplace_back(name + " stderr", err);
  const pid_t pid = spawnCommand(inNetns(ns, std::move(argv)), out, err);
  if (pid < 0) return ::testing::AssertionFailure() << "cannot start " << name;
  children_.push_back(pid);
  if (ready_marker.empty()) return ::testing::AssertionSuccess();
  const ChildReady r = waitForReadyLine(pid, out, ready_marker, 10s);
  if (r.port) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << name << " not ready: " << readFile(err);
}

::testing::AssertionResult NetnsPods::startSidecar(const std::string& name, const std::string& ns,
                                                   const std::string& yaml,
                                                   const std::vector<std::string>& rule_flags) {
  std::vector<std::string> rules = inNetns(ns, {proxyBinary(), "iptables"});
  rules.insert(rules.end(), rule_flags.begin(), rule_flags.end());
  if (auto r = sh(rules); !r) return r;
  const std::string config = dir_.write(name + ".yaml", yaml);
  ::chmod(config.c_str(), 0644);
  auto r = start(name, ns, {"setpriv", "--reuid=1337", "--regid=1337", "--clear-groups", proxyBinary(), "-c", config});
  if (!r) return r;
  const std::vector<std::string> ready_check =
      inNetns(ns, {"curl", "-sf", "--max-time", "2", "-o", "/dev/null", "http://127.0.0.1:15020/ready"});
  const bool ready = waitUntil(
      [&] {
        return exitedZero(runCommand(ready_check, 5s)) && admin(ns, "/listeners").find(":1500") != std::string::npos;
      },
      10s);
  if (!ready) return ::testing::AssertionFailure() << name << " admin never answered: " << stderrOf(name);
  return ::testing::AssertionSuccess();
}

std::string NetnsPods::stderrOf(const std::string& name) { return readFile(dir_.path() + "/" + name + ".err"); }

std::string NetnsPods::admin(const std::string& ns, const std::string& path) {
  CommandResult r = runCommand(inNetns(ns, {"curl", "-sS", "--max-time", "3", "http://127.0.0.1:15020" + path}), 5s);
  return exitedZero(r) ? r.out : "";
}

double NetnsPods::metric(const std::string& ns, const std::string& name, const Labels& labels) {
  return findMetric(admin(ns, "/metrics"), name, labels).value_or(-1);
}

long long NetnsPods::ruleCount(const std::string& ns, const std::string& chain, const std::string& rule, bool v6) {
  CommandResult r = runCommand(inNetns(ns, {sbinTool(v6 ? "ip6tables-save" : "iptables-save"), "-c", "-t", "nat"}), 5s);
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.find("-A " + chain + " ") == std::string::npos || line.find(rule) == std::string::npos) continue;
    long long packets = -1, bytes = 0;
    if (std::sscanf(line.c_str(), "[%lld:%lld]", &packets, &bytes) == 2) return packets;
  }
  return -1;
}

}  // namespace sluice::itest
