#pragma once
// sluice-test-ca (support/test_ca/: a test fixture that signs CSRs) as a
// child process: its root in DIR/root.pem, its port in DIR/port, and a
// switch file DIR/fail that makes every call fail with the file's text.
// Built beside the sluice binary.

#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

class TestCaProcess {
 public:
  // `tokens`: "TOKEN=ns/NS/sa/SA" each.
  explicit TestCaProcess(const std::vector<std::string>& tokens) {
    std::vector<std::string> argv = {
        (std::filesystem::path(SLUICE_BIN).parent_path() / "sluice-test-ca").string(), "--dir", dir_.path()};
    for (const auto& t : tokens) argv.insert(argv.end(), {"--token", t});
    pid_ = spawnCommand(argv, dir_.path() + "/out", dir_.path() + "/err");
    waitUntil([&] { return std::filesystem::exists(dir_.path() + "/port"); }, Millis(10000));
    if (std::filesystem::exists(dir_.path() + "/port")) port_ = std::stoi(readFile(dir_.path() + "/port"));
  }
  ~TestCaProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  TestCaProcess(const TestCaProcess&) = delete;
  TestCaProcess& operator=(const TestCaProcess&) = delete;

  bool ok() const { return port_ > 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string rootPath() const { return dir_.path() + "/root.pem"; }
  void failWith(const std::string& message) const {
    std::ofstream(dir_.path() + "/fail.tmp") << message;
    std::filesystem::rename(dir_.path() + "/fail.tmp", dir_.path() + "/fail");
  }
  void recover() const { std::filesystem::remove(dir_.path() + "/fail"); }
  std::string stderrText() const { return readFile(dir_.path() + "/err"); }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace sluice::itest
