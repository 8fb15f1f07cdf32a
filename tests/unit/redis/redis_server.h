#pragma once
// A real redis-server on a loopback port, for tests (unit and integration):
// started by the test, killed and reaped by the destructor (and killed with
// the test process if that dies first). stop() then start() brings it back
// on the same port, as a restarted server would. Header-only: the unit and
// integration test binaries both include it.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace sluice::testing {

class RedisServer {
 public:
  // True when redis-server is on PATH (tests skip otherwise).
  static bool available() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

  RedisServer() : port_(freePort()) {}
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool running() const { return pid_ > 0; }

  // Starts it and waits (bounded) until it answers PING. Retries the spawn a
  // few times: a just-killed server's port may take a moment to free.
  bool start(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (pid_ <= 0) spawn();
      if (command({"PING"}) == "+PONG") return true;
      int status = 0;
      if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;  // it died (port busy?): spawn again
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // SIGKILL and reap: the port refuses connections from here on.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Sends one command and returns the first line of the reply ("+OK",
  // ":3", "$5" ...); "" when there was no answer within a second.
  std::string command(const std::vector<std::string>& args) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port_);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string line;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
      std::string req = "*" + std::to_string(args.size()) + "\r\n";
      for (const auto& a : args) req += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
      if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) line = readLine(fd);
    }
    ::close(fd);
    return line;
  }

 private:
  static uint16_t freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    ::close(fd);
    return ntohs(sa.sin_port);
  }

  static std::string readLine(int fd) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char c;
      if (::recv(fd, &c, 1, 0) != 1) break;
      if (c == '\n') {
        if (!out.empty() && out.back() == '\r') out.pop_back();
        return out;
      }
      out.push_back(c);
    }
    return "";
  }

  void spawn() {
    const std::string port = std::to_string(port_);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::close_range(3, ~0U, 0);  // inherit none of the test's sockets
      const int null_fd = ::open("/dev/null", O_RDWR);
      ::dup2(null_fd, 0);
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
      ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pid_ = pid;
  }

  uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace sluice::testing
