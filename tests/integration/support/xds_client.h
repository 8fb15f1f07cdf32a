#pragma once
// tests/integration/support/xds_client.js as a child process: an ADS
// client on Node's @grpc/grpc-js, independent of gRPC C++ and of the
// server's code, driven one JSON line at a time over pipes. Every wait is
// bounded; the destructor kills and reaps the child. Header-only, so that
// both xds_tests (the server in-process) and integration_tests (the
// sluice-control binary) use it; needs SLUICE_SOURCE_DIR.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::itest {

class XdsClientProcess {
 public:
  // "sotw" or "delta" to 127.0.0.1:port. ok() is false (with error()) when
  // the child cannot start.
  XdsClientProcess(int port, const std::string& mode) {
    const std::string root = SLUICE_SOURCE_DIR;
    const std::string modules = root + "/.npm-deps/node_modules";
    if (::access((modules + "/@grpc/grpc-js/package.json").c_str(), R_OK) != 0 ||
        ::access((modules + "/@grpc/proto-loader/package.json").c_str(), R_OK) != 0) {
      error_ = "@grpc/grpc-js or @grpc/proto-loader is not in " + modules + ": run scripts/install-deps";
      return;
    }
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      error_ = "pipe failed";
      return;
    }
    const std::string script = root + "/tests/integration/support/xds_client.js";
    const std::string target = "127.0.0.1:" + std::to_string(port);
    const std::string node_path = "NODE_PATH=" + modules;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::execlp("env", "env", node_path.c_str(), "node", script.c_str(), target.c_str(), mode.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    if (pid_ < 0) error_ = "fork failed";
  }
  ~XdsClientProcess() {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  XdsClientProcess(const XdsClientProcess&) = delete;
  XdsClientProcess& operator=(const XdsClientProcess&) = delete;

  bool ok() const { return error_.empty() && pid_ > 0; }
  const std::string& error() const { return error_; }

  void send(const nlohmann::json& request) { command({{"op", "send"}, {"request", request}}); }

  // The next response as xds_client.js summarises it, {"timeout": true}
  // when none came within `timeout`, or {"error": ...} when the child said
  // nothing at all (the read is bounded by `timeout` plus 10 s of slack for
  // Node's start-up and proto loading).
  nlohmann::json next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    command({{"op", "next"}, {"timeout_ms", timeout.count()}});
    const auto line = readLine(timeout + std::chrono::seconds(10));
    if (!line) return {{"error", "xds_client.js gave no answer"}};
    auto j = nlohmann::json::parse(*line, nullptr, false);
    if (j.is_discarded()) return {{"error", "xds_client.js printed: " + *line}};
    return j;
  }

 private:
  void command(const nlohmann::json& c) {
    const std::string line = c.dump() + "\n";
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(to_, line.data() + done, line.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  std::optional<std::string> readLine(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(from_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  std::string error_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffer_;
};

}  // namespace sluice::itest
