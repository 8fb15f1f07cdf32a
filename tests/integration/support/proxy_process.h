#pragma once
// Runs the real sluice binary (SLUICE_BIN) as a child process and talks to it
// only through what a user has: its config file, signals, its admin HTTP API,
// its exit status, /proc and its stderr (captured to a file and printed when
// the test fails).

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/support/net.h"

namespace sluice::itest {

struct HttpResponse {
  int status = 0;     // 0 when the request failed at the transport level
  std::string body;
  std::string error;  // transport error, empty on success
  bool ok() const { return error.empty(); }
};

using Labels = std::map<std::string, std::string>;

class ProxyProcess {
 public:
  // Writes `config_yaml` to config.yaml in a fresh temp dir; start() runs it.
  explicit ProxyProcess(const std::string& config_yaml);
  // SIGKILLs a still-running proxy; prints its stderr when the test failed.
  ~ProxyProcess();
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  // Spawns `sluice -c config.yaml --admin-address-path DIR/admin.addr` and
  // waits (bounded) until the admin address file appears.
  ::testing::AssertionResult start(Millis timeout = Millis(10000));
  // Before start(): the proxy's RLIMIT_NOFILE (soft and hard), as `ulimit -n`.
  void setMaxFiles(uint64_t n) { max_files_ = n; }
  // Replaces the config file atomically (temp file + rename).
  void writeConfig(const std::string& yaml);

  const std::string& dir() const { return dir_; }
  const std::string& configPath() const { return config_path_; }
  pid_t pid() const { return pid_; }
  uint16_t adminPort() const { return admin_port_; }

  HttpResponse admin(const std::string& method, const std::string& path,
                     Millis timeout = Millis(5000)) const;
  HttpResponse get(const std::string& path) const { return admin("GET", path); }
  HttpResponse post(const std::string& path) const { return admin("POST", path); }

  // name -> port from GET /listeners; empty on failure.
  std::map<std::string, uint16_t> listeners() const;
  std::optional<uint16_t> listenerPort(const std::string& name) const;
  // Polls /listeners until `name` is listed.
  std::optional<uint16_t> waitListener(const std::string& name, Millis timeout = Millis(5000)) const;

  // The first sample of `name` whose labels include `labels`; nullopt when
  // absent or /metrics failed.
  std::optional<double> metric(const std::string& name, const Labels& labels = {}) const;
  // Polls /metrics until pred(value) holds; the failure message names the
  // last value seen.
  ::testing::AssertionResult waitMetric(const std::string& name, const Labels& labels,
                                        const std::function<bool(double)>& pred,
                                        const std::string& expectation,
                                        Millis timeout = Millis(5000)) const;
  ::testing::AssertionResult waitMetricAtLeast(const std::string& name, const Labels& labels,
                                               double min, Millis timeout = Millis(5000)) const;
  ::testing::AssertionResult waitMetricEq(const std::string& name, const Labels& labels,
                                          double want, Millis timeout = Millis(5000)) const;

  bool signal(int sig) const;
  // Waits for the process to exit; returns its raw wait status.
  std::optional<int> waitExit(Millis timeout);
  bool running();
  // VmRSS in KiB from /proc/PID/status.
  std::optional<long> rssKb() const;
  // CPU time (user + system, all threads) in ms from /proc/PID/stat.
  std::optional<long long> cpuMs() const;
  std::string stderrText() const;

 private:
  std::string dir_;
  std::string config_path_;
  std::string addr_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_status_ = 0;
  uint16_t admin_port_ = 0;
  std::optional<uint64_t> max_files_;
};

// "exited with 0", "killed by signal 9", ...
std::string describeWaitStatus(int status);
bool exitedWith(const std::optional<int>& status, int code);

// Plain HTTP/1.1 request to 127.0.0.1:port with Connection: close.
HttpResponse httpRequest(uint16_t port, const std::string& method, const std::string& path,
                         Millis timeout = Millis(5000));

// Parses Prometheus text exposition; see ProxyProcess::metric.
std::optional<double> findMetric(const std::string& text, const std::string& name,
                                 const Labels& labels);

struct CommandResult {
  std::optional<int> status;  // raw wait status; nullopt when it timed out (then killed)
  std::string out;
  std::string err;
};
// The proxy binary under test: $SLUICE_TEST_BIN if set, else SLUICE_BIN.
const char* proxyBinary();

// Runs SLUICE_BIN with `args` (argv[1..]) in a fresh temp dir, capturing
// stdout and stderr.
CommandResult runSluice(const std::vector<std::string>& args, Millis timeout = Millis(10000));

// A fresh temp dir (removed by the destructor) for files a test writes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `name` under the dir; returns its full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

std::string readFile(const std::string& path);
// The checkout the tests were compiled from (for the shipped example configs).
std::string repoRoot();
// config/examples/NAME as shipped, with each `from` text replaced once by its
// `to` (fixed ports swapped for free ones); fails naming a `from` the example
// no longer has.
::testing::AssertionResult shippedExample(const std::string& name,
                                          const std::vector<std::pair<std::string, std::string>>& swaps,
                                          std::string* yaml);

// The proxy under test is a sanitizer build (scripts/test sets ASAN_OPTIONS
// or TSAN_OPTIONS for those runs). Its RSS then holds ASan's quarantine of
// freed blocks and shadow memory, and its runtime opens descriptors of its
// own: RSS bounds and descriptor counts say nothing about the proxy's own
// cost there, and the Release run checks them.
bool proxyUnderSanitizer();

}  // namespace sluice::itest
