#pragma once
// Real HTTP clients as child processes: curl for single requests, wrk for
// load. Every run is bounded: a child still running at its timeout is killed.

#include <cstdint>
#include <optional>
#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/integration/support/http_message.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

// Runs argv[0] (searched in PATH) with stdout/stderr captured.
// Starts argv (argv[0] found on PATH unless it has a '/') with stdin from
// /dev/null and stdout/stderr to the files; the child dies with the test
// process and inherits no descriptors. `max_files`, when set, is the child's
// RLIMIT_NOFILE (soft and hard), set before exec. Returns the pid (or -1).
pid_t spawnCommand(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path,
                   std::optional<uint64_t> max_files = std::nullopt);

// A child started by spawnCommand that prints "MARKER PORT" on its stdout
// once it accepts connections.
struct ChildReady {
  std::optional<uint16_t> port;    // the number after the marker, once printed
  std::optional<int> exit_status;  // set when the child exited first (it is reaped)
};
// Polls `out_path`, the child's stdout, until a complete line holds `marker`,
// the child exits, or `timeout` passes (then neither field is set).
ChildReady waitForReadyLine(pid_t pid, const std::string& out_path, const std::string& marker, Millis timeout);

CommandResult runCommand(const std::vector<std::string>& argv, Millis timeout);
// True when `name` is an executable in PATH.
bool haveExecutable(const std::string& name);

struct CurlResult {
  std::optional<int> exit_code;  // nullopt: killed at the timeout or by a signal
  int status = 0;                // %{http_code}; 0 when no response
  double time_total = 0;         // seconds
  int num_connects = 0;
  std::string headers_raw;  // everything written by -D: every response head (100 Continue too) and trailers
  HeaderList headers;       // the fields of the final response head
  std::string body;
  std::string err;  // curl's stderr
  bool ok() const { return exit_code == 0; }
  std::optional<std::string> header(std::string_view name) const { return findHeader(headers, name); }
  std::string describe() const;
};

// curl -sS with `args` (URL included); the response head and body are
// captured through -D and -o, so `args` must name one URL.
CurlResult curl(const std::vector<std::string>& args, Millis timeout = Millis(10000));
std::string localUrl(uint16_t port, const std::string& path);

struct WrkResult {
  CommandResult cmd;
  bool parsed = false;
  uint64_t requests = 0;
  uint64_t non_2xx_3xx = 0;
  uint64_t connect_errors = 0, read_errors = 0, write_errors = 0, timeouts = 0;
  std::string output() const { return cmd.out + cmd.err; }
};
WrkResult wrk(const std::vector<std::string>& args, Millis timeout);

}  // namespace sluice::itest
