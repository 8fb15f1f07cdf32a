#pragma once
// Helpers of the tests that run pods in network namespaces they create
// (injected_pods_netns_test.cc; capture_netns*_test.cc through
// netns_pods.h): the iptables and ip tools, commands run inside a
// namespace, the app that shows what headers reached it, and the fixture
// that makes namespaces and removes them.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

// iptables' and ip's binaries live in /usr/sbin, which a test's PATH may lack.
std::string tool(const std::string& name);

// True when the command ran to exit status 0.
bool ran(const CommandResult& r);

// "argv... -> exit status\nstdout stderr", for a failure message.
std::string describe(const std::vector<std::string>& argv, const CommandResult& r);

// argv run inside the named network namespace (`ip netns exec NS ...`).
std::vector<std::string> inNs(const std::string& ns, std::vector<std::string> argv);

// A python3 HTTP/1.1 app (argv[1]: its port, on [::] taking IPv4 too;
// argv[2], optional: its name) that answers every GET with "server: NAME"
// when named, then the request headers it received, one "name: value" line
// each (names lower-cased): how a test sees what reached the app (the
// x-forwarded-client-cert a sidecar set, say). Prints "listening on PORT"
// when it accepts connections.
extern const char* const kEchoApp;

// A test that runs processes in network namespaces it creates. TearDown
// removes everything it made, pass or fail: every process in its
// namespaces (named after the test process, so only its own), the children
// it started, then the namespaces, which take their veths with them; when
// the test failed it prints the children's stderr first.
class NetnsTest : public ::testing::Test {
 protected:
  // Why namespaces cannot be made here ("" when they can, as far as can be
  // told without trying): not root, or a tool missing (ip, setpriv, curl,
  // the iptables ones, and `more_tools`).
  static std::string netnsUnavailable(const std::vector<std::string>& more_tools = {});
  void TearDown() override;

  // `ip netns add NAME`, removed at TearDown; false when it cannot be made.
  bool addNamespace(const std::string& name);
  // A veth pair made with its ends already in their namespaces (nothing
  // left in the test's own when a step fails); it goes with them.
  ::testing::AssertionResult addVeth(const std::string& name, const std::string& ns, const std::string& peer,
                                     const std::string& peer_ns);
  ::testing::AssertionResult sh(const std::vector<std::string>& argv, Millis timeout = Millis(10000));
  // Starts argv in `ns` (stdout and stderr to NAME.out and NAME.err in
  // dir_); waits for `ready_marker` on its stdout when given.
  ::testing::AssertionResult start(const std::string& name, const std::string& ns, std::vector<std::string> argv,
                                   const std::string& ready_marker = "");
  std::string stderrOf(const std::string& name) const;

  // The test's files, and its children's NAME.out and NAME.err.
  TempDir dir_;

 private:
  std::vector<std::string> namespaces_;
  std::vector<pid_t> children_;
  std::vector<std::pair<std::string, std::string>> logs_;
};

}  // namespace sluice::itest
