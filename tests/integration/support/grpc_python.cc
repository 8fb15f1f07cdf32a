#include "tests/integration/support/grpc_python.h"

#include <sys/wait.h>

#include "tests/integration/support/command.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

// Debian's interpreter, where python3-grpcio installs (not a virtualenv's).
constexpr const char* kPython = "/usr/bin/python3";

}  // namespace

::testing::AssertionResult havePythonGrpcio() {
  const CommandResult r = runCommand({kPython, "-c", "import grpc"}, Millis(20000));
  if (r.status && WIFEXITED(*r.status) && WEXITSTATUS(*r.status) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << kPython << " cannot import grpc (python3-grpcio): run scripts/install-deps; "
                                       << r.err;
}

nlohmann::json runPythonGrpcClient(const std::string& mode, const std::string& target,
                                   const std::vector<std::string>& args, Millis timeout) {
  std::vector<std::string> argv = {kPython, repoRoot() + "/tests/integration/support/grpc_python_client.py", mode,
                                   target};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = runCommand(argv, timeout);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {{"error", "no JSON from grpc_python_client.py " + mode + ": " + r.out + r.err}};
  return j;
}

}  // namespace sluice::itest
