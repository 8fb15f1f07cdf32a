// grpc::Call on a real loop against a gRPC server of another stack
// (Python's grpcio, gRPC C-core: call_test_server.py): a unary call with
// its metadata and deadline, a response far beyond a flow-control window,
// a server stream, a status with a percent-encoded message, a connection
// refused, a server that never answers (the local deadline), a name
// resolved without blocking, and a call given up by destroying it (the
// server hears the cancellation).
#include "proxy/grpc/call.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
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
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  Recorder r(loop_);
  CallTarget t = target("Echo");
  t.address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  Call call(loop_, std::move(t), r);
  EXPECT_FALSE(r.closed) << "never from inside the constructor";
  runUntilClosed(r);
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->code, kUnavailable) << r.closed->text();
  EXPECT_NE(r.closed->message.find("cannot connect to 127.0.0.1:"), std::string::npos) << r.closed->text();
}

TEST_F(GrpcCallTest, AServerThatNeverAnswersMeetsTheLocalDeadline) {
  // Listening, never accepting: TCP connects, HTTP/2 never starts.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  Recorder r(loop_);
  CallTarget t = target("Echo");
  t.address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
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
  bool timed_out = false;
  auto guard = loop_.createTimer([&] {
    timed_out = true;
    loop_.exit();
  });
  auto poll = loop_.createTimer([&] {});
  guard->enable(20s);
  while (r.headers == 0 && !timed_out) {
    poll->enable(10ms);
    auto stop = loop_.createTimer([&] { loop_.exit(); });
    stop->enable(10ms);
    loop_.run();
  }
  ASSERT_EQ(r.headers, 1);
  ASSERT_EQ(server_.readLine(5s), "holding");
  call.reset();
  // One turn sends the RST_STREAM and lets the connection go.
  auto stop = loop_.createTimer([&] { loop_.exit(); });
  stop->enable(50ms);
  loop_.run();
  EXPECT_EQ(server_.readLine(10s), "cancelled");
  EXPECT_FALSE(r.closed) << "no event after destruction";
}

}  // namespace
}  // namespace sluice::grpc
