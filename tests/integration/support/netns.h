#pragma once
// Helpers of the tests that run pods in network namespaces they create
// (capture_netns_test.cc, injected_pods_netns_test.cc): the iptables and ip
// tools, commands run inside a namespace, and the app that shows what
// headers reached it.

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

// A python3 HTTP/1.1 app (argv[1]: its port, on every address) that answers
// every GET with the request headers it received, one "name: value" line
// each (names lower-cased): how a test sees the x-forwarded-client-cert an
// app got. Prints "listening on PORT" when it accepts connections.
extern const char* const kEchoApp;

// A test that runs processes in network namespaces it creates. TearDown
// removes everything it made, pass or fail: every process in its
// namespaces (named after the test process, so only its own), the children
// it started, then the namespaces, which take their veths with them; when
// the test failed it prints the children's stderr first.
class NetnsTest : public ::testing::Test {
 protected:
  // Why namespaces cannot be made here ("" when they can, as far as can be
  // told without trying): not root, or a tool missing.
  static std::string netnsUnavailable();
  void TearDown() override;

  // `ip netns add NAME`, removed at TearDown; false when it cannot be made.
  bool addNamespace(const std::string& name);
  ::testing::AssertionResult sh(const std::vector<std::string>& argv, Millis timeout = Millis(10000));
  // Starts argv in `ns` (stdout and stderr to NAME.out and NAME.err in
  // dir_); waits for `ready_marker` on its stdout when given.
  ::testing::AssertionResult start(const std::string& name, const std::string& ns, std::vector<std::string> argv,
                                   const std::string& ready_marker = "");
  std::string stderrOf(const std::string& name) const;

  TempDir dir_;

 private:
  std::vector<std::string> namespaces_;
  std::vector<pid_t> children_;
  std::vector<std::pair<std::string, std::string>> logs_;
};

}  // namespace sluice::itest
