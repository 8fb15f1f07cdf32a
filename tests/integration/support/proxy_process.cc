#include "tests/integration/support/proxy_process.h"

#include "tests/integration/support/command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#ifndef SLUICE_BIN
#error "SLUICE_BIN must name the proxy binary"
#endif

namespace sluice::itest {

namespace {

std::string makeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sluice-it-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::fprintf(stderr, "mkdtemp: %s\n", std::strerror(errno));
    std::abort();
  }
  return tmpl;
}

void removeTempDir(const std::string& dir) {
  if (dir.empty() || std::getenv("SLUICE_IT_KEEP_TMP")) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

void writeFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
  }
  std::filesystem::rename(tmp, path);
}

void sleepMs(int ms) { std::this_thread::sleep_for(Millis(ms)); }

}  // namespace

// SLUICE_TEST_BIN runs the suite against another build of the proxy (the
// TSan build in CI) without rebuilding the tests.
const char* proxyBinary() {
  static const char* bin = [] {
    const char* env = std::getenv("SLUICE_TEST_BIN");
    return env && *env ? env : SLUICE_BIN;
  }();
  return bin;
}

namespace {

// The proxy with `args`, through the harness's one fork/exec helper.
pid_t spawn(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path,
            std::optional<uint64_t> max_files = std::nullopt) {
  std::vector<std::string> argv{proxyBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawnCommand(argv, out_path, err_path, max_files);
}

// Polls waitpid until the child exits or the deadline passes.
std::optional<int> waitChild(pid_t pid, Deadline deadline) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (deadline.expired()) return std::nullopt;
    sleepMs(5);
  }
}

size_t findCaseInsensitive(const std::string& hay, const std::string& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  return it == hay.end() ? std::string::npos : static_cast<size_t>(it - hay.begin());
}

std::string decodeChunked(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t len = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    if (len == 0) break;
    out += body.substr(eol + 2, len);
    pos = eol + 2 + len + 2;
  }
  return out;
}

}  // namespace

std::string repoRoot() {
  // Not __FILE__: Ninja compiles with paths relative to the build dir, which
  // would make the result depend on the directory the tests run from.
  return SLUICE_SOURCE_DIR;
}

::testing::AssertionResult shippedExample(const std::string& name,
                                          const std::vector<std::pair<std::string, std::string>>& swaps,
                                          std::string* yaml) {
  *yaml = readFile(repoRoot() + "/config/examples/" + name);
  if (yaml->empty()) return ::testing::AssertionFailure() << "config/examples/" << name << " is missing or empty";
  for (const auto& [from, to] : swaps) {
    const size_t at = yaml->find(from);
    if (at == std::string::npos)
      return ::testing::AssertionFailure() << "config/examples/" << name << " no longer has " << from;
    yaml->replace(at, from.size(), to);
  }
  return ::testing::AssertionSuccess();
}

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TempDir::TempDir() : path_(makeTempDir()) {}
TempDir::~TempDir() { removeTempDir(path_); }

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
  return p;
}

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "wait status " + std::to_string(status);
}

bool exitedWith(const std::optional<int>& status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

HttpResponse httpRequest(uint16_t port, const std::string& method, const std::string& path,
                         Millis timeout) {
  HttpResponse resp;
  Deadline deadline(timeout);
  int err = 0;
  Fd fd = connectLoopback(port, timeout, &err);
  if (!fd) {
    resp.error = "connect to admin 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(err);
    return resp;
  }
  std::string req = method + " " + path +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    "Content-Length: 0\r\n\r\n";
  if (!sendAll(fd.get(), req, deadline, &err)) {
    resp.error = std::string("send to admin: ") + std::strerror(err);
    return resp;
  }
  // Read the head, then either Content-Length bytes or up to the close.
  std::string data;
  char buf[16 * 1024];
  size_t head_end = std::string::npos;
  std::optional<size_t> content_length;
  bool chunked = false;
  for (;;) {
    if (head_end != std::string::npos && content_length &&
        data.size() >= head_end + 4 + *content_length) {
      break;
    }
    ssize_t n = recvSome(fd.get(), buf, sizeof buf, deadline, &err);
    if (n == 0) break;
    if (n < 0) {
      // A reset after a complete response is still a response.
      if (head_end != std::string::npos && err == ECONNRESET) break;
      resp.error = std::string("read from admin: ") + std::strerror(err) + " after " +
                   std::to_string(data.size()) + " bytes";
      return resp;
    }
    data.append(buf, static_cast<size_t>(n));
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = data.substr(0, head_end + 2);
        size_t cl = findCaseInsensitive(head, "\r\ncontent-length:");
        if (cl != std::string::npos) {
          content_length = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
        }
        chunked = findCaseInsensitive(head, "transfer-encoding: chunked") != std::string::npos;
      }
    }
  }
  if (head_end == std::string::npos) {
    resp.error = "admin response without a complete head: '" + data.substr(0, 200) + "'";
    return resp;
  }
  if (data.compare(0, 5, "HTTP/") != 0 || data.size() < 12) {
    resp.error = "not an HTTP response: '" + data.substr(0, 200) + "'";
    return resp;
  }
  resp.status = std::atoi(data.c_str() + data.find(' ') + 1);
  resp.body = data.substr(head_end + 4);
  if (content_length && resp.body.size() > *content_length) resp.body.resize(*content_length);
  if (chunked) resp.body = decodeChunked(resp.body);
  return resp;
}

std::optional<double> findMetric(const std::string& text, const std::string& name,
                                 const Labels& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos || line.compare(0, name_end, name) != 0 ||
        name_end != name.size()) {
      continue;
    }
    Labels got;
    size_t pos = name_end;
    if (line[pos] == '{') {
      ++pos;
      while (pos < line.size() && line[pos] != '}') {
        size_t eq = line.find('=', pos);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') break;
        std::string key = line.substr(pos, eq - pos);
        std::string value;
        size_t i = eq + 2;
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        got[key] = value;
        pos = i + 1;
        if (pos < line.size() && line[pos] == ',') ++pos;
        while (pos < line.size() && line[pos] == ' ') ++pos;
      }
      ++pos;  // '}'
    }
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = got.find(k);
      if (it == got.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    while (pos < line.size() && line[pos] == ' ') ++pos;
    const char* start = line.c_str() + pos;
    char* end = nullptr;
    double v = std::strtod(start, &end);
    if (end == start) continue;
    return v;
  }
  return std::nullopt;
}

ProxyProcess::ProxyProcess(const std::string& config_yaml) : dir_(makeTempDir()) {
  config_path_ = dir_ + "/config.yaml";
  addr_path_ = dir_ + "/admin.addr";
  stderr_path_ = dir_ + "/stderr.log";
  writeConfig(config_yaml);
}

ProxyProcess::~ProxyProcess() {
  // A proxy that exited on its own while the test was not waiting for it
  // crashed (or a sanitizer stopped it): that fails the test even when every
  // assertion before passed.
  if (pid_ > 0 && !reaped_ && waitExit(Millis(0))) {
    ADD_FAILURE() << "sluice (pid " << pid_ << ") " << describeWaitStatus(exit_status_)
                  << " during the test";
  }
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (::testing::Test::HasFailure()) {
    std::string err = stderrText();
    const size_t kMax = 16 * 1024;
    if (err.size() > kMax) err = "...\n" + err.substr(err.size() - kMax);
    std::fprintf(stderr, "----- sluice stderr (%s) -----\n%s\n----- config (%s) -----\n%s\n-----\n",
                 stderr_path_.c_str(), err.c_str(), config_path_.c_str(),
                 readFile(config_path_).c_str());
  }
  removeTempDir(dir_);
}

void ProxyProcess::writeConfig(const std::string& yaml) { writeFileAtomically(config_path_, yaml); }

::testing::AssertionResult ProxyProcess::start(Millis timeout) {
  if (::access(proxyBinary(), X_OK) != 0) {
    return ::testing::AssertionFailure() << "no proxy binary at " << proxyBinary();
  }
  pid_ = spawn({"-c", config_path_, "--admin-address-path", addr_path_}, dir_ + "/stdout.log",
               stderr_path_, max_files_);
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  Deadline deadline(timeout);
  for (;;) {
    std::string addr = readFile(addr_path_);
    if (!addr.empty() && addr.back() == '\n') {
      size_t colon = addr.rfind(':');
      if (addr.rfind("127.0.0.1:", 0) != 0 || colon == std::string::npos) {
        return ::testing::AssertionFailure() << "admin address file holds '" << addr << "'";
      }
      admin_port_ = static_cast<uint16_t>(std::atoi(addr.c_str() + colon + 1));
      if (admin_port_ == 0) {
        return ::testing::AssertionFailure() << "admin address file holds port 0: '" << addr << "'";
      }
      return ::testing::AssertionSuccess();
    }
    if (!running()) {
      return ::testing::AssertionFailure()
             << "sluice " << describeWaitStatus(exit_status_) << " before writing "
             << addr_path_ << "; stderr:\n"
             << stderrText();
    }
    if (deadline.expired()) {
      return ::testing::AssertionFailure() << "no admin address in " << addr_path_ << " after "
                                           << timeout.count() << " ms";
    }
    sleepMs(10);
  }
}

HttpResponse ProxyProcess::admin(const std::string& method, const std::string& path,
                                 Millis timeout) const {
  return httpRequest(admin_port_, method, path, timeout);
}

std::map<std::string, uint16_t> ProxyProcess::listeners() const {
  std::map<std::string, uint16_t> out;
  HttpResponse r = get("/listeners");
  if (!r.ok() || r.status != 200) return out;
  static const std::regex object(R"(\{[^{}]*\})");
  static const std::regex name(R"re("name"\s*:\s*"([^"]*)")re");
  static const std::regex address(R"re("address"\s*:\s*"[^"]*:(\d+)")re");
  for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), object);
       it != std::sregex_iterator(); ++it) {
    std::string obj = it->str();
    std::smatch n, a;
    if (std::regex_search(obj, n, name) && std::regex_search(obj, a, address)) {
      out[n[1]] = static_cast<uint16_t>(std::stoi(a[1]));
    }
  }
  return out;
}

std::optional<uint16_t> ProxyProcess::listenerPort(const std::string& name) const {
  auto all = listeners();
  auto it = all.find(name);
  if (it == all.end() || it->second == 0) return std::nullopt;
  return it->second;
}

std::optional<uint16_t> ProxyProcess::waitListener(const std::string& name, Millis timeout) const {
  Deadline deadline(timeout);
  for (;;) {
    if (auto port = listenerPort(name)) return port;
    if (deadline.expired()) return std::nullopt;
    sleepMs(20);
  }
}

std::optional<double> ProxyProcess::metric(const std::string& name, const Labels& labels) const {
  HttpResponse r = get("/metrics");
  if (!r.ok() || r.status != 200) return std::nullopt;
  return findMetric(r.body, name, labels);
}

::testing::AssertionResult ProxyProcess::waitMetric(const std::string& name, const Labels& labels,
                                                    const std::function<bool(double)>& pred,
                                                    const std::string& expectation,
                                                    Millis timeout) const {
  Deadline deadline(timeout);
  std::optional<double> last;
  for (;;) {
    last = metric(name, labels);
    if (last && pred(*last)) return ::testing::AssertionSuccess();
    if (deadline.expired()) break;
    sleepMs(20);
  }
  std::string label_text;
  for (const auto& [k, v] : labels) label_text += (label_text.empty() ? "" : ",") + k + "=\"" + v + "\"";
  auto failure = ::testing::AssertionFailure();
  failure << name << "{" << label_text << "} expected " << expectation << " within "
          << timeout.count() << " ms; last value: ";
  if (last) {
    failure << *last;
  } else {
    failure << "absent from /metrics";
  }
  return failure;
}

::testing::AssertionResult ProxyProcess::waitMetricAtLeast(const std::string& name,
                                                           const Labels& labels, double min,
                                                           Millis timeout) const {
  return waitMetric(name, labels, [min](double v) { return v >= min; },
                    ">= " + std::to_string(static_cast<long long>(min)), timeout);
}

::testing::AssertionResult ProxyProcess::waitMetricEq(const std::string& name, const Labels& labels,
                                                      double want, Millis timeout) const {
  return waitMetric(name, labels, [want](double v) { return v == want; },
                    "== " + std::to_string(static_cast<long long>(want)), timeout);
}

bool ProxyProcess::signal(int sig) const { return pid_ > 0 && ::kill(pid_, sig) == 0; }

std::optional<int> ProxyProcess::waitExit(Millis timeout) {
  if (reaped_) return exit_status_;
  if (pid_ <= 0) return std::nullopt;
  auto status = waitChild(pid_, Deadline(timeout));
  if (status) {
    reaped_ = true;
    exit_status_ = *status;
  }
  return status;
}

bool ProxyProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  return !waitExit(Millis(0));
}

std::optional<long> ProxyProcess::rssKb() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return std::nullopt;
}

std::optional<long long> ProxyProcess::cpuMs() const {
  const std::string stat = readFile("/proc/" + std::to_string(pid_) + "/stat");
  // The command name may hold spaces: fields are counted after its ')'.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream in(stat.substr(paren + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Fields 3..13 (state .. cmajflt), then utime (14) and stime (15).
  for (int i = 3; i <= 13; ++i) in >> field;
  if (!(in >> utime >> stime)) return std::nullopt;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return static_cast<long long>((utime + stime) * 1000 / static_cast<unsigned long long>(ticks > 0 ? ticks : 100));
}

std::string ProxyProcess::stderrText() const { return readFile(stderr_path_); }

CommandResult runSluice(const std::vector<std::string>& args, Millis timeout) {
  TempDir dir;
  std::string out_path = dir.path() + "/stdout", err_path = dir.path() + "/stderr";
  CommandResult r;
  pid_t pid = spawn(args, out_path, err_path);
  if (pid < 0) {
    r.err = std::string("fork: ") + std::strerror(errno);
    return r;
  }
  r.status = waitChild(pid, Deadline(timeout));
  if (!r.status) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  r.out = readFile(out_path);
  r.err = readFile(err_path);
  return r;
}

bool proxyUnderSanitizer() { return std::getenv("ASAN_OPTIONS") != nullptr || std::getenv("TSAN_OPTIONS") != nullptr; }

}  // namespace sluice::itest
