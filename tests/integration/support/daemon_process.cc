#include "tests/integration/support/daemon_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/support/command.h"
#include "tests/integration/support/grpc_node.h"

#ifndef SLUICE_CONTROL_BIN
#error "SLUICE_CONTROL_BIN must name the sluice-control binary"
#endif

namespace sluice::itest {

namespace {

std::string makeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sluice-control-it-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::fprintf(stderr, "mkdtemp: %s\n", std::strerror(errno));
    std::abort();
  }
  return tmpl;
}

std::optional<int> waitChild(pid_t pid, Deadline deadline) {
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    if (deadline.expired()) return std::nullopt;
    std::this_thread::sleep_for(Millis(5));
  }
}

// "ads 127.0.0.1:41234" from the address file's lines.
std::string field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k, v;
  while (in >> k >> v)
    if (k == key) return v;
  return "";
}

}  // namespace

::testing::AssertionResult exampleControlYaml(std::string* yaml) {
  return shippedExample(
      "xds/control.yaml",
      {{"address: 127.0.0.1:15010", "address: 127.0.0.1:0"}, {"address: 127.0.0.1:15000", "address: 127.0.0.1:0"}},
      yaml);
}

ControlDaemonProcess::ControlDaemonProcess(const std::string& yaml) : dir_(makeTempDir()) {
  config_path_ = dir_ + "/control.yaml";
  addr_path_ = dir_ + "/addr";
  stderr_path_ = dir_ + "/stderr.log";
  writeConfig(yaml);
}

ControlDaemonProcess::~ControlDaemonProcess() {
  if (pid_ > 0 && !reaped_ && waitExit(Millis(0)))
    ADD_FAILURE() << "sluice-control (pid " << pid_ << ") " << describeWaitStatus(exit_status_) << " during the test";
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (::testing::Test::HasFailure())
    std::fprintf(stderr, "----- sluice-control stderr -----\n%s\n----- control.yaml -----\n%s\n-----\n",
                 stderrText().c_str(), readFile(config_path_).c_str());
  std::error_code ec;
  if (!std::getenv("SLUICE_IT_KEEP_TMP")) std::filesystem::remove_all(dir_, ec);
}

void ControlDaemonProcess::writeConfig(const std::string& yaml) {
  const std::string tmp = config_path_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << yaml;
  }
  std::filesystem::rename(tmp, config_path_);
}

::testing::AssertionResult ControlDaemonProcess::start(Millis timeout) {
  pid_ = spawnCommand({SLUICE_CONTROL_BIN, "-c", config_path_, "--address-path", addr_path_, "--log-level", "debug"},
                      dir_ + "/stdout.log", stderr_path_);
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  for (Deadline deadline(timeout);;) {
    const std::string text = readFile(addr_path_);
    if (!text.empty()) {
      ads_address_ = field(text, "ads");
      admin_address_ = field(text, "admin");
      webhook_address_ = field(text, "webhook");
      ca_address_ = field(text, "ca");
      const size_t colon = admin_address_.rfind(':');
      admin_port_ =
          colon == std::string::npos ? 0 : static_cast<uint16_t>(std::atoi(admin_address_.c_str() + colon + 1));
      if (ads_address_.empty() || admin_port_ == 0)
        return ::testing::AssertionFailure() << "address file holds '" << text << "'";
      return ::testing::AssertionSuccess();
    }
    if (auto status = waitChild(pid_, Deadline(Millis(0)))) {
      reaped_ = true;
      exit_status_ = *status;
      return ::testing::AssertionFailure()
             << "sluice-control " << describeWaitStatus(*status) << " before listening; stderr:\n"
             << stderrText();
    }
    if (deadline.expired())
      return ::testing::AssertionFailure() << "no address file after " << timeout.count() << " ms";
    std::this_thread::sleep_for(Millis(10));
  }
}

HttpResponse ControlDaemonProcess::get(const std::string& path) const { return httpRequest(admin_port_, "GET", path); }

std::optional<double> ControlDaemonProcess::metric(const std::string& name, const Labels& labels) const {
  const HttpResponse r = get("/metrics");
  if (!r.ok() || r.status != 200) return std::nullopt;
  return findMetric(r.body, name, labels);
}

::testing::AssertionResult ControlDaemonProcess::waitMetricEq(const std::string& name, const Labels& labels,
                                                              double want, Millis timeout) const {
  std::optional<double> last;
  for (Deadline deadline(timeout);;) {
    last = metric(name, labels);
    if (last && *last == want) return ::testing::AssertionSuccess();
    if (deadline.expired()) break;
    std::this_thread::sleep_for(Millis(20));
  }
  auto failure = ::testing::AssertionFailure();
  failure << name << " expected " << want << " within " << timeout.count() << " ms; last value: ";
  if (last)
    failure << *last;
  else
    failure << "absent";
  return failure;
}

bool ControlDaemonProcess::signal(int sig) const { return pid_ > 0 && !reaped_ && ::kill(pid_, sig) == 0; }

std::optional<int> ControlDaemonProcess::waitExit(Millis timeout) {
  if (reaped_) return exit_status_;
  if (pid_ <= 0) return std::nullopt;
  auto status = waitChild(pid_, Deadline(timeout));
  if (status) {
    reaped_ = true;
    exit_status_ = *status;
  }
  return status;
}

std::string ControlDaemonProcess::stderrText() const { return readFile(stderr_path_); }

XdsProbe::XdsProbe(std::string ads_address, std::string node_id, std::string node_cluster,
                   std::vector<std::string> subs)
    : ads_(std::move(ads_address)),
      node_id_(std::move(node_id)),
      node_cluster_(std::move(node_cluster)),
      subs_(std::move(subs)) {}

XdsProbe::~XdsProbe() { stop(); }

::testing::AssertionResult XdsProbe::start() {
  if (auto deps = haveGrpcNodeDeps(); !deps) return deps;
  std::vector<std::string> argv = nodeScript("daemon_xds_probe.js");
  argv.insert(argv.end(), {ads_, node_id_, node_cluster_});
  argv.insert(argv.end(), subs_.begin(), subs_.end());
  pid_ = spawnCommand(argv, dir_.path() + "/out", dir_.path() + "/err");
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  return ::testing::AssertionSuccess();
}

void XdsProbe::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<nlohmann::json> XdsProbe::responses() const {
  std::vector<nlohmann::json> out;
  std::istringstream in(readFile(dir_.path() + "/out"));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<nlohmann::json> XdsProbe::responses(const std::string& type) const {
  std::vector<nlohmann::json> out;
  for (auto& r : responses())
    if (r.value("type", "") == type) out.push_back(std::move(r));
  return out;
}

std::optional<nlohmann::json> XdsProbe::waitFor(const std::string& type,
                                                const std::function<bool(const nlohmann::json&)>& pred,
                                                Millis timeout) const {
  for (Deadline deadline(timeout);;) {
    for (const auto& r : responses(type))
      if (pred(r)) return r;
    if (deadline.expired()) return std::nullopt;
    std::this_thread::sleep_for(Millis(10));
  }
}

std::string XdsProbe::output() const {
  return "stdout:\n" + readFile(dir_.path() + "/out") + "stderr:\n" + readFile(dir_.path() + "/err");
}

}  // namespace sluice::itest
