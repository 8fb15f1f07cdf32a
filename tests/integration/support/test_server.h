#pragma once
// In-process upstream servers for the integration tests. Each TestServer
// listens on 127.0.0.1:0 and runs its handler for every accepted connection
// on a thread of its own; the destructor stops accepting, shuts down every
// live connection (which wakes any handler waiting in poll) and joins all
// threads, so a test never leaks a server.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "tests/integration/support/net.h"
#include "tests/integration/support/stream.h"

namespace sluice::itest {

class TestServer;

// One accepted connection, owned by its handler thread. Close through these
// methods (never ::close on fd()) so the server can safely shut down the
// descriptors that are still live when it stops.
class Conn {
 public:
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() { close(); }

  int fd() const { return fd_; }
  void shutdownWrite();
  void close();  // FIN
  void reset();  // RST (SO_LINGER 0, then close)

 private:
  friend class TestServer;
  Conn(TestServer* server, int fd) : server_(server), fd_(fd) {}
  TestServer* server_;
  int fd_;
};

class TestServer {
 public:
  using Handler = std::function<void(Conn&)>;
  explicit TestServer(Handler handler);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }
  int acceptedCount() const { return accepted_.load(); }
  // Idempotent; the destructor calls it.
  void stop();

 private:
  friend class Conn;
  void acceptLoop();
  void closeConn(int fd, bool reset);

  Handler handler_;
  Fd listener_;
  Fd wake_;  // eventfd that ends acceptLoop
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<int> live_;  // fds of open Conns; closed only under mu_
  std::vector<std::thread> handlers_;
  std::thread acceptor_;
};

// A value set once by a handler thread and awaited by the test.
template <class T>
class Slot {
 public:
  void set(T v) {
    std::lock_guard lk(mu_);
    if (!value_) value_ = std::move(v);
    cv_.notify_all();
  }
  std::optional<T> wait(Millis timeout) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, timeout, [&] { return value_.has_value(); });
    return value_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> value_;
};

// Echoes every byte back; on the client's EOF it half-closes too, then waits
// for the client to finish.
TestServer::Handler echoHandler();

// What a stream server saw on each connection.
struct StreamLog {
  std::mutex mu;
  std::vector<TransferResult> done;  // one per finished connection
  std::atomic<uint64_t> sent{0};     // bytes sent on the latest connection
  std::vector<TransferResult> results() {
    std::lock_guard lk(mu);
    return done;
  }
};

// Sends `send_len` bytes of pattern `send_seed` (then FIN) while checksumming
// everything it receives until the client's EOF: a source, a sink, or both.
// send_buffer > 0 pins SO_SNDBUF on the accepted socket.
TestServer::Handler streamHandler(std::shared_ptr<StreamLog> log, uint64_t send_seed,
                                  uint64_t send_len, int send_buffer = 0);

// A listener whose accept queue is full, so the kernel drops further SYNs
// and a connect to it hangs until the connector gives up: the way to make a
// connect time out on loopback. listen(fd, 0) admits one queued connection
// on Linux; a second filler connect keeps the queue full.
class Blackhole {
 public:
  Blackhole();
  uint16_t port() const { return port_; }
  // True when a fresh connect does not complete within `wait`, i.e. the
  // technique works on this kernel.
  bool verify(Millis wait = Millis(300));

 private:
  Fd listener_;
  std::vector<Fd> fillers_;
  uint16_t port_ = 0;
};

// A port on 127.0.0.1 that is bound but not listening: connects to it are
// refused at once. Holding the bound socket (instead of bind+close) keeps the
// kernel from handing the port to anything else while the test runs.
class DeadPort {
 public:
  DeadPort();
  uint16_t port() const { return port_; }

 private:
  Fd fd_;
  uint16_t port_ = 0;
};

}  // namespace sluice::itest
