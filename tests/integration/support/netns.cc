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

const char* const kEchoApp = R"PY(import http.server, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = "".join("%s: %s\n" % (k.lower(), v) for k, v in self.headers.items()).encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Echo)
print("listening on", sys.argv[1], flush=True)
server.serve_forever()
)PY";

std::string NetnsTest::netnsUnavailable() {
  if (::geteuid() != 0) return "needs root (network namespaces, iptables)";
  for (const char* t : {"ip", "setpriv", "curl", "iptables-restore", "iptables-save"})
    if (!haveExecutable(t) && !std::filesystem::exists(std::string("/usr/sbin/") + t))
      return std::string("needs '") + t + "' (scripts/install-deps installs iptables)";
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
