// grpc::Call on a real loop against a gRPC server of another stack
// (Python's grpcio, gRPC C-core: call_test_server.py): a unary call with
// its metadata and deadline, a response far beyond a flow-control window,
// a server stream, a status with a percent-encoded message, a connection
// refused, a server that never answers (the local deadline), a name
// resolved without blocking, and a call given up by destroying it (the
// server hears the cancellation; a bare nghttp2 server sees that it came as
// RST_STREAM CANCEL, before the connection closed).
#include "proxy/grpc/call.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sluice::grpc {
namespace {

using namespace std::chrono_literals;

// The Python server as a child process: lines from its stdout; it stops
// when its stdin closes.
class PythonServer {
 public:
  bool start() {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      const std::string script = std::string(SLUICE_SOURCE_DIR) + "/tests/unit/grpc/call_test_server.py";
      ::execl("/usr/bin/python3", "python3", script.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    const auto line = readLine(20s);
    if (!line || line->rfind("listening ", 0) != 0) return false;
    port_ = std::stoi(line->substr(10));
    return true;
  }
  ~PythonServer() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  std::optional<std::string> readLine(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (true) {
      if (const size_t nl = buffered_.find('\n'); nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char chunk[256];
      const ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffered_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, port_ = 0;
  std::string buffered_;
};

class Recorder final : public CallEvents {
 public:
  explicit Recorder(event::Loop& loop) : loop_(loop) {}
  void onCallHeaders() override { ++headers; }
  void onCallMessage(std::string m) override { messages.push_back(std::move(m)); }
  void onCallClosed(const Status& s) override {
    closed = s;
    loop_.exit();
  }
  int headers = 0;
  std::vector<std::string> messages;
  std::optional<Status> closed;

 private:
  event::Loop& loop_;
};

// A TCP socket bound to a free loopback port (listening when backlog > 0);
// -1 on failure. `port` gets the port.
int loopbackSocket(int backlog, int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      (backlog > 0 && ::listen(fd, backlog) != 0) || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

// Runs `loop` in short turns until `done` or `limit`; false on the limit.
bool runUntil(event::Loop& loop, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    auto turn = loop.createTimer([&] { loop.exit(); });
    turn->enable(10ms);
    loop.run();
  }
  return true;
}

// A bare HTTP/2 server on nghttp2, on a thread of its own, for one
// connection: it answers a request's HEADERS with response headers, holds
// the stream open, and records what arrives next. grpcio hears a
// cancellation whether the client reset the stream or only dropped the
// connection; this server tells the two apart.
class FrameRecordingServer {
 public:
  bool start() {
    listener_ = loopbackSocket(1, port_);
    if (listener_ < 0) return false;
    thread_ = std::thread([this] { serve(); });
    return true;
  }
  ~FrameRecordingServer() {
    if (thread_.joinable()) thread_.join();
    if (listener_ >= 0) ::close(listener_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Waits for the connection to end (bounded by serve()).
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  std::atomic<bool> answered{false};
  std::atomic<int64_t> rst_code{-1};  // the first RST_STREAM's error code
  std::atomic<bool> rst_before_eof{false};
  std::atomic<bool> eof{false};

 private:
  void serve() {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 20000) != 1) return;
    fd_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd_ < 0) return;
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(
        cbs, [](nghttp2_session*, const uint8_t* data, size_t len, int, void* user) -> ssize_t {
          const ssize_t n = ::send(static_cast<FrameRecordingServer*>(user)->fd_, data, len, MSG_NOSIGNAL);
          return n < 0 ? static_cast<ssize_t>(NGHTTP2_ERR_CALLBACK_FAILURE) : n;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session* s, const nghttp2_frame* f, void* user) -> int {
          auto* self = static_cast<FrameRecordingServer*>(user);
          if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
            const auto nv = [](std::string_view name, std::string_view value) {
              auto* n = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
              auto* v = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
              return nghttp2_nv{n, v, name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
            };
            nghttp2_nv nva[] = {nv(":status", "200"), nv("content-type", "application/grpc")};
            nghttp2_submit_headers(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, nullptr, nva, 2, nullptr);
            self->answered = true;
          } else if (f->hd.type == NGHTTP2_RST_STREAM && self->rst_code < 0) {
            self->rst_code = f->rst_stream.error_code;
            self->rst_before_eof = !self->eof;
          }
          return 0;
        });
    nghttp2_session* session;
    nghttp2_session_server_new(&session, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until) {
      if (nghttp2_session_send(session) != 0) break;
      pollfd c{fd_, POLLIN, 0};
      if (::poll(&c, 1, 100) != 1) continue;
      uint8_t buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof = true;
        break;
      }
      if (nghttp2_session_mem_recv(session, buf, static_cast<size_t>(n)) < 0) break;
    }
    nghttp2_session_del(session);
    ::close(fd_);
  }

  int listener_ = -1;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

class GrpcCallTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.start()) << "needs /usr/bin/python3 with grpcio (scripts/install-deps)"; }

  CallTarget target(const std::string& method) {
    CallTarget t;
    t.address = server_.address();
    t.head.path = "/t.T/" + method;
    t.head.timeout = 20s;  // a bound for the test; Echo reports that it saw one
    t.max_message_bytes = 32 << 20;
    return t;
  }

  // Runs the loop until `r` heard the end, or `limit`.
  void runUntilClosed(Recorder& r, std::chrono::milliseconds limit = 20s) {
    bool timed_out = false;
    auto guard = loop_.createTimer([&] {
      timed_out = true;
      loop_.exit();
    });
    guard->enable(limit);
    while (!r.closed && !timed_out) loop_.run();
  }

  void unary(Call& call, const std::string& message) {
    call.send(message);
    call.closeSend();
  }

  PythonServer server_;
  event::Loop loop_;
};

TEST_F(GrpcCallTest, AUnaryCallCarriesItsMetadataAndDeadline) {
  Recorder r(loop_);
  CallTarget t = target("Echo");
  t.head.metadata.emplace_back("authorization", "Bearer tok");
  Call call(loop_, std::move(t), r);
  unary(call, "hello");
  runUntilClosed(r);
  ASSERT_TRUE(r.closed);
  EXPECT_TRUE(r.closed->ok()) << r.closed->text();
  EXPECT_EQ(r.headers, 1);
  EXPECT_EQ(r.messages, (std::vector<std::string>{"Bearer tok|set|hello"}));
}

TEST_F(GrpcCallTest, AResponseFarBeyondTheWindowArrivesWhole) {
  Recorder r(loop_);
  Call call(loop_, target("Big"), r);
  unary(call, std::to_string(12 << 20));
  runUntilClosed(r);
  ASSERT_TRUE(r.closed);
  EXPECT_TRUE(r.closed->ok()) << r.closed->text();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].size(), size_t{12 << 20});
}

TEST_F(GrpcCallTest, AMessageOverTheBoundEndsTheCallResourceExhausted) {
  Recorder r(loop_);
  CallTarget t = target("Big");
  t.max_message_bytes = 1 << 20;
  Call call(loop_, std::move(t), r);
  unary(call, std::to_string(2 << 20));
  runUntilClosed(r);
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->code, kResourceExhausted) << r.closed->text();
  EXPECT_TRUE(r.messages.empty());
}

TEST_F(GrpcCallTest, AServerStreamArrivesInOrder) {
  Recorder r(loop_);
  Call call(loop_, target("Many"), r);
  unary(call, "200");
  runUntilClosed(r);
  ASSERT_TRUE(r.closed);
  EXPECT_TRUE(r.closed->ok()) << r.closed->text();
  ASSERT_EQ(r.messages.size(), 200u);
  for (size_t i = 0; i < r.messages.size(); ++i) {
    ASSERT_EQ(r.messages[i], std::string(1024, static_cast<char>('A' + i % 26))) << i;
  }
}

TEST_F(GrpcCallTest, TheServersStatusAndItsMessageDecoded) {
  Recorder r(loop_);
  Call call(loop_, target("Fail"), r);
  unary(call, "CA is down: 100% \xE2\x9C\x93");
  runUntilClosed(r);
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->text(), "UNAVAILABLE: CA is down: 100% \xE2\x9C\x93");
  EXPECT_TRUE(r.messages.empty());
}

TEST_F(GrpcCallTest, ARefusedConnectionIsUnavailable) {
  // A port that was just free.
  int port = 0;
  const int fd = loopbackSocket(0, port);
  ASSERT_GE(fd, 0);
  ::close(fd);
  Recorder r(loop_);
  CallTarget t = target("Echo");
  t.address = "127.0.0.1:" + std::to_string(port);
  Call call(loop_, std::move(t), r);
  EXPECT_FALSE(r.closed) << "never from inside the constructor";
  runUntilClosed(r);
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->code, kUnavailable) << r.closed->text();
  EXPECT_NE(r.closed->message.find("cannot connect to 127.0.0.1:"), std::string::npos) << r.closed->text();
}

TEST_F(GrpcCallTest, AServerThatNeverAnswersMeetsTheLocalDeadline) {
  // Listening, never accepting: TCP connects, HTTP/2 never starts.
  int port = 0;
  const int fd = loopbackSocket(4, port);
  ASSERT_GE(fd, 0);
  Recorder r(loop_);
  CallTarget t = target("Echo");
  t.address = "127.0.0.1:" + std::to_string(port);
  t.head.timeout = 300ms;
  Call call(loop_, std::move(t), r);
  unary(call, "x");
  const auto start = std::chrono::steady_clock::now();
  runUntilClosed(r, 5s);
  ::close(fd);
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->code, kDeadlineExceeded) << r.closed->text();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(GrpcCallTest, ANameIsResolvedOnTheLoop) {
  Recorder r(loop_);
  CallTarget t = target("Echo");
  t.address = "localhost:" + std::to_string(server_.port());
  Call call(loop_, std::move(t), r);
  unary(call, "by name");
  runUntilClosed(r);
  ASSERT_TRUE(r.closed);
  // Where localhost lists ::1 first and the server listens on 127.0.0.1
  // only, the call gets there by the next address.
  EXPECT_TRUE(r.closed->ok()) << r.closed->text();
  EXPECT_EQ(r.messages, (std::vector<std::string>{"|set|by name"}));
}

TEST_F(GrpcCallTest, DestroyingAnOpenCallCancelsItAtTheServer) {
  Recorder r(loop_);
  auto call = std::make_unique<Call>(loop_, target("Hold"), r);
  call->send("a");
  // Until the server's headers: the call is open at both ends.
  ASSERT_TRUE(runUntil(
      loop_, [&] { return r.headers > 0; }, 20s));
  ASSERT_EQ(server_.readLine(5s), "holding");
  call.reset();
  // One turn sends the RST_STREAM and lets the connection go.
  auto stop = loop_.createTimer([&] { loop_.exit(); });
  stop->enable(50ms);
  loop_.run();
  EXPECT_EQ(server_.readLine(10s), "cancelled");
  EXPECT_FALSE(r.closed) << "no event after destruction";
}

TEST(GrpcCallCancel, DestroyingAnOpenCallResetsItsStreamWithCancelBeforeClosing) {
  FrameRecordingServer server;
  ASSERT_TRUE(server.start());
  event::Loop loop;
  Recorder r(loop);
  CallTarget t;
  t.address = server.address();
  t.head.path = "/t.T/Hold";
  t.head.timeout = 20s;
  auto call = std::make_unique<Call>(loop, std::move(t), r);
  call->send("a");
  ASSERT_TRUE(runUntil(
      loop, [&] { return r.headers > 0; }, 20s));
  ASSERT_TRUE(server.answered);
  call.reset();
  auto stop = loop.createTimer([&] { loop.exit(); });
  stop->enable(50ms);
  loop.run();
  server.join();
  EXPECT_TRUE(server.eof) << "the connection closes after the reset";
  EXPECT_EQ(server.rst_code, NGHTTP2_CANCEL) << "RST_STREAM CANCEL (RFC 9113 7), not only a closed connection";
  EXPECT_TRUE(server.rst_before_eof);
  EXPECT_FALSE(r.closed) << "no event after destruction";
}

}  // namespace
}  // namespace sluice::grpc
