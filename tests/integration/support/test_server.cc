#include "tests/integration/support/test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sluice::itest {

void Conn::shutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void Conn::close() {
  if (fd_ >= 0) server_->closeConn(fd_, false);
  fd_ = -1;
}

void Conn::reset() {
  if (fd_ >= 0) server_->closeConn(fd_, true);
  fd_ = -1;
}

TestServer::TestServer(Handler handler)
    : handler_(std::move(handler)),
      listener_(listenLoopback(128)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  port_ = localPort(listener_.get());
  acceptor_ = std::thread([this] { acceptLoop(); });
}

TestServer::~TestServer() { stop(); }

void TestServer::stop() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lk(mu_);
    for (int fd : live_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : handlers_) t.join();
  handlers_.clear();
  listener_.reset();
}

void TestServer::closeConn(int fd, bool reset) {
  std::lock_guard lk(mu_);
  if (reset) setLingerZero(fd);
  live_.erase(fd);
  ::close(fd);
}

void TestServer::acceptLoop() {
  for (;;) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    int n = ::poll(p, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (p[1].revents & POLLIN)) return;
    if (!(p[0].revents & POLLIN)) continue;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lk(mu_);
      live_.insert(fd);
    }
    accepted_.fetch_add(1);
    handlers_.emplace_back([this, fd] {
      Conn conn(this, fd);
      handler_(conn);
    });
  }
}

TestServer::Handler echoHandler() {
  return [](Conn& c) {
    char buf[64 * 1024];
    for (;;) {
      int err = 0;
      ssize_t n = recvSome(c.fd(), buf, sizeof buf, Deadline(std::chrono::seconds(120)), &err);
      if (n <= 0) {
        if (n == 0) {
          c.shutdownWrite();
          readUntilClosed(c.fd(), Deadline(std::chrono::seconds(30)), 0);
        }
        return;
      }
      if (!sendAll(c.fd(), buf, static_cast<size_t>(n), Deadline(std::chrono::seconds(120)))) return;
    }
  };
}

TestServer::Handler streamHandler(std::shared_ptr<StreamLog> log, uint64_t send_seed,
                                  uint64_t send_len, int send_buffer) {
  return [log, send_seed, send_len, send_buffer](Conn& c) {
    if (send_buffer > 0) setSendBuffer(c.fd(), send_buffer);
    TransferOptions opts;
    opts.send_seed = send_seed;
    opts.send_len = send_len;
    opts.sent_progress = &log->sent;
    TransferResult r = transfer(c.fd(), opts, Deadline(std::chrono::seconds(120)));
    {
      std::lock_guard lk(log->mu);
      log->done.push_back(r);
    }
  };
}

Blackhole::Blackhole() : listener_(listenLoopback(0)) {
  port_ = localPort(listener_.get());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port_);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // The first connect completes into the never-accepted queue; the second
  // one's SYN is dropped, and so is every retransmit of it.
  for (int i = 0; i < 2; ++i) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    (void)::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (i == 0) {
      pollfd p{fd.get(), POLLOUT, 0};
      ::poll(&p, 1, 1000);
    }
    fillers_.push_back(std::move(fd));
  }
}

bool Blackhole::verify(Millis wait) {
  int err = 0;
  Fd probe = connectLoopback(port_, wait, &err);
  return !probe && err == ETIMEDOUT;
}

DeadPort::DeadPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::fprintf(stderr, "DeadPort: %s\n", std::strerror(errno));
    std::abort();
  }
  port_ = localPort(fd_.get());
}

}  // namespace sluice::itest
