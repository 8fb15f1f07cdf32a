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

namespace sluice::tls::testing {

// Root CA; server certs (localhost + *.sluice.test, and api.other.test);
// client certs with SPIFFE URI SANs (valid, expired, from another CA).
class TestPki {
 public:
  static const TestPki& get() {
    static TestPki* pki = [] {
      auto* p = new TestPki();
      std::atexit([] { std::filesystem::remove_all(dir_); });
      return p;
    }();
    return *pki;
  }
  std::string path(const std::string& file) const { return dir_ + "/" + file; }
  const std::string& dir() const { return dir_; }
  bool ok() const { return ok_; }

 private:
  TestPki() {
    char tmpl[] = "/tmp/sluice_tls_pkiXXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (d == nullptr) return;
    dir_ = d;
    std::ofstream(dir_ + "/gen.sh") << kScript;
    const std::string cmd = "cd '" + dir_ + "' && sh gen.sh >gen.log 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  static inline std::string dir_;
  bool ok_ = false;
  static constexpr const char* kScript = R"SH(set -e
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ca() {
  ec $1.key
  openssl req -x509 -new -key $1.key -sha256 -days 3650 -subj "/CN=$2" -out $1.crt \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {
  ec $2.key
  openssl req -new -key $2.key -subj "/CN=$3" -out $2.csr
  printf "subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n" "$4" > $2.ext
  openssl x509 -req -in $2.csr -CA $1.crt -CAkey $1.key -CAcreateserial -days 365 -sha256 -extfile $2.ext -out $2.crt
}
ca root "Sluice Test Root"
ca other "Other Root"
leaf root server localhost "DNS:localhost,DNS:*.sluice.test"
leaf root server2 api.other.test "DNS:api.other.test"
leaf root client client "URI:spiffe://sluice.test/ns/default/sa/client"
leaf root intruder intruder "URI:spiffe://evil.test/ns/default/sa/intruder"
leaf other stranger stranger "URI:spiffe://sluice.test/ns/default/sa/stranger"
# Expired: 'openssl x509' in OpenSSL 3.0 cannot backdate, 'openssl ca' can.
ec expired.key
openssl req -new -key expired.key -subj "/CN=expired" -out expired.csr
mkdir -p cadb && : > cadb/index.txt && echo 1000 > cadb/serial
cat > ca.cnf <<CNF
[ca]
default_ca = c
[c]
dir = cadb
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = p
x509_extensions = x
[p]
commonName = supplied
[x]
subjectAltName = URI:spiffe://sluice.test/ns/default/sa/expired
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth,clientAuth
CNF
openssl ca -batch -config ca.cnf -cert root.crt -keyfile root.key -in expired.csr -out expired.crt \
  -startdate 20200101000000Z -enddate 20200201000000Z -notext
)SH";
};

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
      p->conn = net::Connection::accepted(loop_, fd, net::Address(), std::make_unique<TlsTransport>(context_()));
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
  p->conn = net::Connection::connect(loop, *net::Address::parse("127.0.0.1:" + std::to_string(port)),
                                     std::make_unique<TlsTransport>(std::move(ctx), std::move(sni)));
  p->conn->addCallbacks(p.get());
  p->conn->setReadHandler(p.get());
  return p;
}

}  // namespace sluice::tls::testing
