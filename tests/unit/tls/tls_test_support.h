#pragma once
// Test support for the TLS layer: a PKI generated once per test binary with
// the openssl CLI, child processes (openssl s_client/s_server, curl) driven
// while our loop runs, and a TLS server over a loopback listener made of
// event::Loop + net::Connection + TlsTransport.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"
#include "proxy/tls/tls_context.h"
#include "proxy/tls/tls_transport.h"
#include "tests/integration/support/test_pki.h"

namespace sluice::tls::testing {

using sluice::testing::TestPki;

// A child process with stdin and stdout+stderr on pipes; killed and reaped
// on destruction.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    ::fcntl(stdout_, F_SETFL, O_NONBLOCK);
  }
  ~Child() {
    closeStdin();
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }
  void write(const std::string& s) {
    if (stdin_ >= 0) (void)!::write(stdin_, s.data(), s.size());
  }
  void closeStdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }
  // Collects output and reaps the child if it exited. Non-blocking.
  const std::string& output() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(stdout_, buf, sizeof(buf));
      if (n <= 0) break;
      output_.append(buf, static_cast<size_t>(n));
    }
    if (!exited_ && pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
    return output_;
  }
  bool exited() {
    output();
    return exited_;
  }
  int exitCode() const { return exited_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::string output_;
};

// One accepted or outbound connection and everything it reported.
struct Peer : net::ConnectionCallbacks, net::ReadHandler {
  std::unique_ptr<net::Connection> conn;
  bool handshake_done = false;  // HandshakeComplete (accepted) or Connected (outbound)
  bool closed = false;
  net::CloseReason reason = net::CloseReason::None;
  std::string failure;  // transport failureReason() at close
  net::TlsInfo info;
  std::string received;
  bool eof = false;
  // Optional: what to do with new bytes (echo, canned reply).
  std::function<void(Peer&, const std::string&)> on_data;

  void onEvent(net::ConnectionEvent e) override {
    if (e == net::ConnectionEvent::HandshakeComplete || e == net::ConnectionEvent::Connected) {
      handshake_done = true;
      if (const net::TlsInfo* i = conn->tlsInfo()) info = *i;
    }
    if (e == net::ConnectionEvent::Closed) {
      closed = true;
      reason = conn->closeReason();
      failure = std::string(conn->transport().failureReason());
    }
  }
  void onRead(net::Buffer& data, bool end_stream) override {
    const std::string s = data.toString();
    data.clear();
    received += s;
    eof = eof || end_stream;
    if (on_data && !s.empty()) on_data(*this, s);
  }
  void send(const std::string& s, bool end = false) {
    net::Buffer b;
    b.add(s);
    conn->write(b, end);
  }
};

// Loopback listener: every accepted fd becomes a Connection over a
// TlsTransport from `context()` (called per accept, so reloads apply).
class TlsListener : public event::IoHandler {
 public:
  TlsListener(event::Loop& loop, std::function<std::shared_ptr<const ServerTlsContext>()> context)
      : loop_(loop), context_(std::move(context)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 64);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    loop_.addFd(fd_, this, EPOLLIN | EPOLLET);
  }
  ~TlsListener() {
    peers.clear();
    loop_.removeFd(fd_);
    ::close(fd_);
  }
  void onIoEvent(uint32_t) override {
    for (;;) {
      const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      auto p = std::make_unique<Peer>();
      p->on_data = on_data;
      p->conn = net::Connection::accepted(loop_, fd, ip::Address(), std::make_unique<TlsTransport>(context_()));
      p->conn->addCallbacks(p.get());
      p->conn->setReadHandler(p.get());
      if (handshake_timeout.count() > 0) p->conn->setHandshakeTimeout(handshake_timeout);
      peers.push_back(std::move(p));
    }
  }
  uint16_t port() const { return port_; }
  std::string hostPort() const { return "127.0.0.1:" + std::to_string(port_); }

  std::vector<std::unique_ptr<Peer>> peers;
  std::function<void(Peer&, const std::string&)> on_data;
  event::Duration handshake_timeout{0};

 private:
  event::Loop& loop_;
  std::function<std::shared_ptr<const ServerTlsContext>()> context_;
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Runs loop turns until pred() or the deadline (default 5s).
template <class P>
bool runUntil(event::Loop& loop, P pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    auto t = loop.createTimer([&] { loop.exit(); });
    t->enable(event::Duration(2));
    loop.run();
  }
  return pred();
}

inline std::shared_ptr<const ServerTlsContext> buildServer(const ServerTlsConfig& cfg) {
  auto r = ServerTlsContext::build(cfg);
  EXPECT_TRUE(r.ok()) << r.error;
  return r.context;
}
inline std::shared_ptr<const ClientTlsContext> buildClient(const ClientTlsConfig& cfg) {
  auto r = ClientTlsContext::build(cfg);
  EXPECT_TRUE(r.ok()) << r.error;
  return r.context;
}

inline ServerTlsConfig serverConfig(const TestPki& pki) {
  ServerTlsConfig c;
  c.certificates.push_back({pki.path("server.crt"), pki.path("server.key")});
  c.certificates.push_back({pki.path("server2.crt"), pki.path("server2.key")});
  c.alpn = {"h2", "http/1.1"};
  return c;
}

// An outbound TLS connection from our client transport.
inline std::unique_ptr<Peer> connectTls(event::Loop& loop, uint16_t port, std::shared_ptr<const ClientTlsContext> ctx,
                                        std::string sni = {}) {
  auto p = std::make_unique<Peer>();
  p->conn = net::Connection::connect(loop, *ip::Address::parse("127.0.0.1:" + std::to_string(port)),
                                     std::make_unique<TlsTransport>(std::move(ctx), std::move(sni)));
  p->conn->addCallbacks(p.get());
  p->conn->setReadHandler(p.get());
  return p;
}

}  // namespace sluice::tls::testing
