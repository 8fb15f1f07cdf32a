// Connection over a real socketpair: watermarks, backpressure, half-close,
// resets, and resuming reads after a pause (edge-triggered epoll).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "proxy/net/connection.h"

namespace sluice::net {
namespace {

struct Recorder : ConnectionCallbacks, ReadHandler {
  void onEvent(ConnectionEvent e) override {
    if (e == ConnectionEvent::Closed) closed = true;
  }
  void onAboveWriteBufferHighWatermark() override { ++above; }
  void onBelowWriteBufferLowWatermark() override { ++below; }
  void onRead(Buffer& data, bool end_stream) override {
    received += data.toString();
    data.clear();
    eof = eof || end_stream;
  }
  std::string received;
  bool eof = false;
  bool closed = false;
  int above = 0;
  int below = 0;
};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    // Small kernel buffers so the user-space buffer has to absorb the rest.
    int sz = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    conn_ = Connection::accepted(loop_, sv[0], ip::Address(), std::make_unique<RawTransport>());
    conn_->addCallbacks(&rec_);
    conn_->setReadHandler(&rec_);
    peer_ = sv[1];
  }
  void TearDown() override {
    if (peer_ >= 0) ::close(peer_);
  }
  // Runs loop turns until pred() or ~2s.
  template <class P>
  bool runUntil(P pred) {
    for (int i = 0; i < 2000 && !pred(); ++i) {
      auto t = loop_.createTimer([&] { loop_.exit(); });
      t->enable(event::Duration(1));
      loop_.run();
    }
    return pred();
  }
  std::string drainPeer() {
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(peer_, buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  event::Loop loop_;
  std::unique_ptr<Connection> conn_;
  Recorder rec_;
  int peer_ = -1;
};

TEST_F(ConnectionTest, WatermarksFireOnceEachWayAndDataArrivesIntact) {
  conn_->setBufferLimit(64 * 1024);
  std::string sent(512 * 1024, 'q');
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i % 251);
  Buffer b;
  b.add(sent);
  conn_->write(b, false);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(rec_.above, 1);
  EXPECT_TRUE(conn_->aboveHighWatermark());
  std::string got;
  ASSERT_TRUE(runUntil([&] {
    got += drainPeer();
    return got.size() == sent.size();
  }));
  EXPECT_EQ(got, sent);
  EXPECT_EQ(rec_.below, 1);
  EXPECT_FALSE(conn_->aboveHighWatermark());
}

TEST_F(ConnectionTest, ReadDisablePausesAndResumeDeliversPendingBytes) {
  conn_->readDisable(true);
  ASSERT_EQ(::write(peer_, "abc", 3), 3);
  int turns = 0;
  runUntil([&] { return ++turns > 20; });  // let the edge-triggered event pass while paused
  EXPECT_EQ(rec_.received, "");
  conn_->readDisable(false);
  ASSERT_TRUE(runUntil([&] { return rec_.received == "abc"; }));
}

TEST_F(ConnectionTest, PeerFinIsEndStreamAndWritingContinues) {
  ASSERT_EQ(::write(peer_, "req", 3), 3);
  ::shutdown(peer_, SHUT_WR);
  ASSERT_TRUE(runUntil([&] { return rec_.eof; }));
  EXPECT_EQ(rec_.received, "req");
  EXPECT_TRUE(conn_->open());  // half-closed, not closed
  Buffer b;
  b.add("resp");
  conn_->write(b, /*end_stream=*/true);
  // Both directions done: the connection closes itself cleanly.
  ASSERT_TRUE(runUntil([&] { return rec_.closed; }));
  EXPECT_EQ(conn_->closeReason(), CloseReason::Done);
  EXPECT_EQ(drainPeer(), "resp");
  char c;
  EXPECT_EQ(::read(peer_, &c, 1), 0);  // FIN reached the peer
}

TEST_F(ConnectionTest, FlushWriteCloseDeliversQueuedBytes) {
  conn_->setBufferLimit(1 << 30);
  Buffer b;
  b.add(std::string(300 * 1024, 'z'));
  conn_->write(b, false);
  conn_->close(CloseType::FlushWrite);
  EXPECT_TRUE(conn_->open());  // still flushing
  std::string got;
  ASSERT_TRUE(runUntil([&] {
    got += drainPeer();
    return rec_.closed;
  }));
  got += drainPeer();
  EXPECT_EQ(got.size(), 300u * 1024);
}

TEST_F(ConnectionTest, ResetCloseSendsRst) {
  // AF_UNIX has no RST; use TCP over loopback for this one.
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = *ip::Address::parse("127.0.0.1:0");
  ASSERT_EQ(::bind(lfd, addr.sockAddr(), addr.sockLen()), 0);
  ::listen(lfd, 4);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(lfd, reinterpret_cast<sockaddr*>(&ss), &len);
  auto target = ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  auto out = Connection::connect(loop_, target, std::make_unique<RawTransport>());
  Recorder rec;
  bool connected = false;
  struct C : ConnectionCallbacks {
    bool* flag;
    void onEvent(ConnectionEvent e) override {
      if (e == ConnectionEvent::Connected) *flag = true;
    }
  } cb;
  cb.flag = &connected;
  out->addCallbacks(&cb);
  ASSERT_TRUE(runUntil([&] { return connected; }));
  const int server_side = ::accept(lfd, nullptr, nullptr);
  out->close(CloseType::Reset);
  char buf[8];
  const ssize_t n = ::read(server_side, buf, sizeof(buf));
  EXPECT_EQ(n, -1);
  EXPECT_EQ(errno, ECONNRESET);
  ::close(server_side);
  ::close(lfd);
}

TEST_F(ConnectionTest, ConnectToClosedPortReportsConnectFailed) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = *ip::Address::parse("127.0.0.1:0");
  ::bind(lfd, addr.sockAddr(), addr.sockLen());
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(lfd, reinterpret_cast<sockaddr*>(&ss), &len);
  auto target = ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  ::close(lfd);  // nobody listens there now
  auto out = Connection::connect(loop_, target, std::make_unique<RawTransport>());
  Recorder rec;
  out->addCallbacks(&rec);
  ASSERT_TRUE(runUntil([&] { return rec.closed; }));
  EXPECT_EQ(out->closeReason(), CloseReason::ConnectFailed);
}

}  // namespace
}  // namespace sluice::net
