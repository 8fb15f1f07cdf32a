#include "tests/integration/support/netns.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

namespace sluice::itest {

std::string tool(const std::string& name) {
  const std::string sbin = "/usr/sbin/" + name;
  return std::filesystem::exists(sbin) ? sbin : name;
}

bool ran(const CommandResult& r) { return r.status && WIFEXITED(*r.status) && WEXITSTATUS(*r.status) == 0; }

std::string describe(const std::vector<std::string>& argv, const CommandResult& r) {
  std::string cmd;
  for (const auto& a : argv) cmd += a + " ";
  return cmd + "-> " + (r.status ? describeWaitStatus(*r.status) : std::string("timed out")) + "\n" + r.out + r.err;
}

std::vector<std::string> inNs(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {tool("ip"), "netns", "exec", ns});
  return argv;
}

const char* const kEchoApp = R"PY(import http.server, socket, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        lines = ["server: " + sys.argv[2]] if len(sys.argv) > 2 else []
        lines += ["%s: %s" % (k.lower(), v) for k, v in self.headers.items()]
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
std::string NetnsTest::netnsUnavailable(const std::vector<std::string>& more_tools) {
  if (::geteuid() != 0) return "needs root (network namespaces, iptables)";
  std::vector<std::string> tools = {"ip", "setpriv", "curl", "iptables-restore", "iptables-save"};
  tools.insert(tools.end(), more_tools.begin(), more_tools.end());
  for (const std::string& t : tools)
    if (!haveExecutable(t) && !std::filesystem::exists("/usr/sbin/" + t))
      return "needs '" + t + "' (scripts/install-deps installs iptables)";
  return "";
}

void NetnsTest::TearDown() {
  for (const std::string& ns : namespaces_) {
    CommandResult pids = runCommand({tool("ip"), "netns", "pids", ns}, Millis(5000));
    std::istringstream in(pids.out);
    for (pid_t pid; in >> pid;) ::kill(pid, SIGKILL);
  }
  for (pid_t pid : children_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (::testing::Test::HasFailure())
    for (const auto& [name, path] : logs_) std::cerr << "--- " << name << " ---\n" << readFile(path) << "\n";
  for (const std::string& ns : namespaces_) runCommand({tool("ip"), "netns", "del", ns}, Millis(5000));
}

bool NetnsTest::addNamespace(const std::string& name) {
  if (!ran(runCommand({tool("ip"), "netns", "add", name}, Millis(5000)))) return false;
  namespaces_.push_back(name);
  return true;
}

::testing::AssertionResult NetnsTest::addVeth(const std::string& name, const std::string& ns, const std::string& peer,
                                              const std::string& peer_ns) {
  return sh({tool("ip"), "link", "add", name, "netns", ns, "type", "veth", "peer", "name", peer, "netns", peer_ns});
}

::testing::AssertionResult NetnsTest::sh(const std::vector<std::string>& argv, Millis timeout) {
  CommandResult r = runCommand(argv, timeout);
  if (ran(r)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << describe(argv, r);
}

::testing::AssertionResult NetnsTest::start(const std::string& name, const std::string& ns,
                                            std::vector<std::string> argv, const std::string& ready_marker) {
  const std::string out = dir_.path() + "/" + name + ".out", err = dir_.path() + "/" + name + ".err";
  logs_.emplace_back(name + " stderr", err);
  const pid_t pid = spawnCommand(inNs(ns, std::move(argv)), out, err);
  if (pid < 0) return ::testing::AssertionFailure() << "cannot start " << name;
  children_.push_back(pid);
  if (ready_marker.empty()) return ::testing::AssertionSuccess();
  if (waitForReadyLine(pid, out, ready_marker, Millis(10000)).port) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << name << " not ready: " << readFile(err);
}

std::string NetnsTest::stderrOf(const std::string& name) const { return readFile(dir_.path() + "/" + name + ".err"); }

}  // namespace sluice::itest
