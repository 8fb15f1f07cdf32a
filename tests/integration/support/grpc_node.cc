#include "tests/integration/support/grpc_node.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "tests/integration/support/command.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

using namespace std::chrono_literals;

namespace {

std::string npmModules() { return repoRoot() + "/.npm-deps/node_modules"; }

std::string makeTempDir() {
  std::string tmpl = "/tmp/sluice-grpc-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

}  // namespace

std::vector<std::string> nodeScript(const std::string& script) {
  return {"env", "NODE_PATH=" + npmModules(), "node", repoRoot() + "/tests/integration/support/" + script};
}

::testing::AssertionResult haveGrpcNodeDeps() {
  for (const char* pkg : {"@grpc/grpc-js", "@grpc/proto-loader"}) {
    if (readFile(npmModules() + "/" + pkg + "/package.json").empty())
      return ::testing::AssertionFailure() << pkg << " is not in " << npmModules() << ": run scripts/install-deps";
  }
  return ::testing::AssertionSuccess();
}

GrpcEchoServer::GrpcEchoServer() : dir_(makeTempDir()) {}

GrpcEchoServer::~GrpcEchoServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (!dir_.empty()) {
    ::unlink((dir_ + "/out").c_str());
    ::unlink((dir_ + "/err").c_str());
    ::rmdir(dir_.c_str());
  }
}

::testing::AssertionResult GrpcEchoServer::start(uint16_t port, Millis timeout) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "the gRPC server is already running";
  if (auto deps = haveGrpcNodeDeps(); !deps) return deps;
  std::vector<std::string> argv = nodeScript("grpc_server.js");
  argv.push_back(std::to_string(port));
  pid_ = spawnCommand(argv, dir_ + "/out", dir_ + "/err");
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed for grpc_server.js";
  const ChildReady ready = waitForReadyLine(pid_, dir_ + "/out", "listening ", timeout);
  if (ready.port) {
    port_ = *ready.port;
    return ::testing::AssertionSuccess();
  }
  if (ready.exit_status) {
    pid_ = -1;
    return ::testing::AssertionFailure() << "grpc_server.js " << describeWaitStatus(*ready.exit_status) << ": "
                                         << stderrText();
  }
  return ::testing::AssertionFailure() << "grpc_server.js did not say it was listening within " << timeout.count()
                                       << " ms: " << stderrText();
}

void GrpcEchoServer::stop(Millis timeout) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  if (!waitUntil([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

std::vector<std::string> GrpcEchoServer::cancellations() const {
  std::vector<std::string> out;
  std::istringstream lines(readFile(dir_ + "/out"));
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("cancelled ", 0) == 0) out.push_back(line);
  return out;
}

std::string GrpcEchoServer::stderrText() const { return readFile(dir_ + "/err"); }

nlohmann::json runGrpcClient(const std::string& mode, const std::string& target, const std::vector<std::string>& args,
                             Millis timeout) {
  std::vector<std::string> argv = nodeScript("grpc_client.js");
  argv.push_back(mode);
  argv.push_back(target);
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = runCommand(argv, timeout);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {{"error", "no JSON from grpc_client.js " + mode + ": " + r.out + r.err}};
  return j;
}

}  // namespace sluice::itest
