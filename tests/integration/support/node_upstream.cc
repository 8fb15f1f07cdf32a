#include "tests/integration/support/node_upstream.h"

#include <signal.h>
#include <sys/wait.h>

#include "tests/integration/support/command.h"
#include "tests/integration/support/grpc_node.h"

namespace sluice::itest {

NodeUpstream::NodeUpstream(std::string script, std::vector<std::string> args_before_port,
                           std::vector<std::string> args_after_port)
    : script_(std::move(script)), before_(std::move(args_before_port)), after_(std::move(args_after_port)) {}

NodeUpstream::~NodeUpstream() { stop(); }

::testing::AssertionResult NodeUpstream::start(Millis timeout) {
  if (pid_ > 0) return ::testing::AssertionFailure() << script_ << " is already running";
  std::vector<std::string> argv = nodeScript(script_);
  argv.insert(argv.end(), before_.begin(), before_.end());
  argv.push_back(std::to_string(port_));
  argv.insert(argv.end(), after_.begin(), after_.end());
  pid_ = spawnCommand(argv, dir_.path() + "/out", dir_.path() + "/err");
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed for " << script_;
  const ChildReady ready = waitForReadyLine(pid_, dir_.path() + "/out", "listening ", timeout);
  if (!ready.port) {
    stop();
    return ::testing::AssertionFailure() << script_ << " did not start: " << stderrText();
  }
  port_ = *ready.port;
  return ::testing::AssertionSuccess();
}

void NodeUpstream::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void NodeUpstream::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::string NodeUpstream::stderrText() const { return readFile(dir_.path() + "/err"); }

}  // namespace sluice::itest
