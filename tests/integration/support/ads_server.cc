#include "tests/integration/support/ads_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "tests/integration/support/command.h"
#include "tests/integration/support/grpc_node.h"

namespace sluice::itest {

std::string AdsRequest::shortType() const {
  const auto dot = type_url.rfind('.');
  return dot == std::string::npos ? type_url : type_url.substr(dot + 1);
}

AdsServerProcess::AdsServerProcess() : fifo_(dir_.path() + "/commands") { ::mkfifo(fifo_.c_str(), 0600); }

AdsServerProcess::~AdsServerProcess() { stop(); }

::testing::AssertionResult AdsServerProcess::start(Millis timeout) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "ads_server.js is already running";
  if (auto deps = haveGrpcNodeDeps(); !deps) return deps;
  ++runs_;
  const std::string out = dir_.path() + "/out." + std::to_string(runs_);
  std::vector<std::string> argv = nodeScript("ads_server.js");
  argv.push_back(fifo_);
  argv.push_back(std::to_string(port_));
  pid_ = spawnCommand(argv, out, dir_.path() + "/err." + std::to_string(runs_));
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed for ads_server.js";
  // Our end of the FIFO: read-write so that opening never blocks.
  if (fifo_fd_ < 0) fifo_fd_ = ::open(fifo_.c_str(), O_RDWR | O_CLOEXEC);
  const ChildReady ready = waitForReadyLine(pid_, out, "listening ", timeout);
  if (!ready.port) {
    stop();
    return ::testing::AssertionFailure() << "ads_server.js did not start: " << stderrText();
  }
  port_ = *ready.port;
  return ::testing::AssertionSuccess();
}

void AdsServerProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  // Commands written while it was down must not reach the next run.
  if (fifo_fd_ >= 0) {
    ::close(fifo_fd_);
    fifo_fd_ = -1;
  }
}

std::vector<nlohmann::json> AdsServerProcess::events() const {
  std::vector<nlohmann::json> out;
  for (int run = 1; run <= runs_; ++run) {
    std::istringstream in(readFile(dir_.path() + "/out." + std::to_string(run)));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] != '{') continue;
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) continue;  // a line still being written
      j["run"] = run;
      out.push_back(std::move(j));
    }
  }
  return out;
}

::testing::AssertionResult AdsServerProcess::set(const std::string& type, const std::string& version,
                                                 const nlohmann::json& resources, Millis timeout) {
  if (pid_ <= 0 || fifo_fd_ < 0) return ::testing::AssertionFailure() << "ads_server.js is not running";
  const std::string line = nlohmann::json{{"op", "set"}, {"type", type}, {"version", version}, {"resources", resources}}
                               .dump() + "\n";
  if (::write(fifo_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return ::testing::AssertionFailure() << "cannot write to the command FIFO";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : events()) {
      if (e["run"] != runs_) continue;
      if (e.value("event", "") == "command_error" && e.value("line", "") + "\n" == line)
        return ::testing::AssertionFailure() << "ads_server.js refused the command: " << e["error"];
      if (e.value("event", "") == "set" && e.value("version_info", "") == version &&
          e.value("type_url", "").find("." + type) != std::string::npos)
        return ::testing::AssertionSuccess();
    }
    std::this_thread::sleep_for(Millis(20));
  }
  return ::testing::AssertionFailure() << "ads_server.js did not confirm set " << type << " " << version << ":\n"
                                       << outputText();
}

std::vector<AdsRequest> AdsServerProcess::requests() const {
  std::vector<AdsRequest> out;
  for (const auto& e : events()) {
    if (e.value("event", "") != "request") continue;
    AdsRequest r;
    r.stream = e.value("stream", 0);
    r.type_url = e.value("type_url", "");
    r.version_info = e.value("version_info", "");
    r.response_nonce = e.value("response_nonce", "");
    for (const auto& n : e["resource_names"]) r.resource_names.push_back(n.get<std::string>());
    if (e["error_detail"].is_object()) {
      r.nack = true;
      r.error = e["error_detail"].value("message", "");
      r.error_code = e["error_detail"].value("code", 0);
    }
    r.node = e["node"];
    r.delta = e.value("delta", false);
    // Only delta requests carry these (a const json has no operator[] for absent keys).
    if (auto it = e.find("unsubscribe"); it != e.end() && it->is_array())
      for (const auto& n : *it) r.unsubscribe.push_back(n.get<std::string>());
    if (auto it = e.find("initial_resource_versions"); it != e.end() && it->is_object())
      for (const auto& [k, v] : it->items()) r.initial_resource_versions[k] = v.get<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

::testing::AssertionResult AdsServerProcess::waitRequest(const std::function<bool(const AdsRequest&)>& pred,
                                                         const std::string& expectation, Millis timeout,
                                                         AdsRequest* found) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    for (const auto& r : requests()) {
      if (!pred(r)) continue;
      if (found) *found = r;
      return ::testing::AssertionSuccess();
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(Millis(20));
  }
  return ::testing::AssertionFailure() << "no request " << expectation << " within " << timeout.count()
                                       << " ms; the server saw:\n"
                                       << outputText();
}

::testing::AssertionResult AdsServerProcess::waitAck(const std::string& type, const std::string& version,
                                                     Millis timeout) const {
  return waitRequest(
      [&](const AdsRequest& r) {
        return r.shortType() == type && r.version_info == version && !r.nack && !r.response_nonce.empty();
      },
      "ACKing " + type + " version " + version, timeout);
}

::testing::AssertionResult AdsServerProcess::waitNack(const std::string& type, AdsRequest* found,
                                                      Millis timeout) const {
  return waitRequest([&](const AdsRequest& r) { return r.shortType() == type && r.nack; }, "NACKing " + type, timeout,
                     found);
}

std::string AdsServerProcess::outputText() const {
  std::string s;
  for (int run = 1; run <= runs_; ++run) s += readFile(dir_.path() + "/out." + std::to_string(run));
  return s;
}

std::string AdsServerProcess::stderrText() const {
  std::string s;
  for (int run = 1; run <= runs_; ++run) s += readFile(dir_.path() + "/err." + std::to_string(run));
  return s;
}

}  // namespace sluice::itest
