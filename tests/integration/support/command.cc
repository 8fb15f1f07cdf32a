#include "tests/integration/support/command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>
#include <thread>

namespace sluice::itest {

// fork+execvp with stdin from /dev/null and stdout/stderr to files. Between
// fork and exec the child makes only async-signal-safe calls (the test
// process has threads).
pid_t spawnCommand(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path,
                   std::optional<uint64_t> max_files) {
  std::vector<std::string> storage = args;
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);
  int in = ::open("/dev/null", O_RDONLY);
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0 || err < 0) ::_exit(125);
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  ::close_range(3, ~0U, 0);
  if (max_files) {
    const rlimit lim{static_cast<rlim_t>(*max_files), static_cast<rlim_t>(*max_files)};
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(124);
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvp(argv[0], argv.data());
  ::_exit(127);
}

namespace {


uint64_t capture(const std::string& text, const std::regex& re) {
  std::smatch m;
  if (!std::regex_search(text, m, re)) return 0;
  return std::strtoull(m[1].str().c_str(), nullptr, 10);
}

}  // namespace

ChildReady waitForReadyLine(pid_t pid, const std::string& out_path, const std::string& marker, Millis timeout) {
  ChildReady r;
  for (Deadline deadline(timeout); !deadline.expired();) {
    const std::string text = readFile(out_path);
    if (const size_t at = text.find(marker); at != std::string::npos && text.find('\n', at) != std::string::npos) {
      r.port = static_cast<uint16_t>(std::strtoul(text.c_str() + at + marker.size(), nullptr, 10));
      return r;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      r.exit_status = status;
      return r;
    }
    std::this_thread::sleep_for(Millis(5));
  }
  return r;
}

CommandResult runCommand(const std::vector<std::string>& argv, Millis timeout) {
  TempDir dir;
  std::string out_path = dir.path() + "/stdout", err_path = dir.path() + "/stderr";
  CommandResult r;
  pid_t pid = spawnCommand(argv, out_path, err_path);
  if (pid < 0) {
    r.err = std::string("fork: ") + std::strerror(errno);
    return r;
  }
  Deadline deadline(timeout);
  for (;;) {
    int status = 0;
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      r.status = status;
      break;
    }
    if ((w < 0 && errno != EINTR) || deadline.expired()) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(Millis(2));
  }
  r.out = readFile(out_path);
  r.err = readFile(err_path);
  return r;
}

bool haveExecutable(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string CurlResult::describe() const {
  std::string out = "curl ";
  out += exit_code ? "exit " + std::to_string(*exit_code) : std::string("killed/timed out");
  out += ", status " + std::to_string(status) + ", " + std::to_string(time_total) + " s";
  if (!err.empty()) out += ", stderr: " + err;
  out += "\n--- headers ---\n" + headers_raw + "--- body (" + std::to_string(body.size()) + " bytes) ---\n" +
         body.substr(0, 300);
  return out;
}

std::string localUrl(uint16_t port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

CurlResult curl(const std::vector<std::string>& args, Millis timeout) {
  TempDir dir;
  const std::string head_path = dir.path() + "/head", body_path = dir.path() + "/body";
  double max_time = static_cast<double>(timeout.count()) / 1000.0;
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", std::to_string(max_time), "-D", head_path,
                                   "-o", body_path, "-w", "%{http_code} %{time_total} %{num_connects}"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult cmd = runCommand(argv, timeout + Millis(2000));
  CurlResult r;
  if (cmd.status && WIFEXITED(*cmd.status)) r.exit_code = WEXITSTATUS(*cmd.status);
  std::istringstream w(cmd.out);
  w >> r.status >> r.time_total >> r.num_connects;
  r.err = cmd.err;
  r.headers_raw = readFile(head_path);
  r.body = readFile(body_path);
  // The final response head is the last block that starts with a status line.
  size_t last = r.headers_raw.rfind("HTTP/");
  while (last != std::string::npos && last != 0 && r.headers_raw.compare(last - 2, 2, "\r\n") != 0) {
    last = r.headers_raw.rfind("HTTP/", last - 1);
  }
  if (last != std::string::npos) {
    size_t eol = r.headers_raw.find("\r\n", last);
    size_t end = r.headers_raw.find("\r\n\r\n", last);
    if (eol != std::string::npos && end != std::string::npos && end > eol) {
      parseHeaderLines(std::string_view(r.headers_raw).substr(eol + 2, end - eol - 2 + 2), r.headers);
    }
  }
  return r;
}

WrkResult wrk(const std::vector<std::string>& args, Millis timeout) {
  std::vector<std::string> argv = {"wrk"};
  argv.insert(argv.end(), args.begin(), args.end());
  WrkResult r;
  r.cmd = runCommand(argv, timeout);
  const std::string& o = r.cmd.out;
  static const std::regex requests(R"((\d+) requests in)");
  static const std::regex non2xx(R"(Non-2xx or 3xx responses: (\d+))");
  static const std::regex sock(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))");
  std::smatch m;
  r.parsed = std::regex_search(o, m, requests);
  r.requests = capture(o, requests);
  r.non_2xx_3xx = capture(o, non2xx);
  if (std::regex_search(o, m, sock)) {
    r.connect_errors = std::strtoull(m[1].str().c_str(), nullptr, 10);
    r.read_errors = std::strtoull(m[2].str().c_str(), nullptr, 10);
    r.write_errors = std::strtoull(m[3].str().c_str(), nullptr, 10);
    r.timeouts = std::strtoull(m[4].str().c_str(), nullptr, 10);
  }
  return r;
}

}  // namespace sluice::itest
