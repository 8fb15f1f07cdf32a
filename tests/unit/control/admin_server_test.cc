// The admin HTTP server over a real loopback socket: the handler's answer,
// keep-alive, a client that sends garbage, and stop() closing connections.

#include "control/admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "control/status_client.h"

namespace sluice::control {
namespace {

AdminResponse echoHandler(std::string_view method, std::string_view target) {
  if (target == "/missing") return {404, "text/plain", "nope\n"};
  return {200, "application/json", "{\"method\":\"" + std::string(method) + "\",\"target\":\"" + std::string(target) + "\"}"};
}

int connectTo(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until `done` says the bytes so far are complete, EOF (*eof set), or 3 s.
std::string readUntil(int fd, const std::function<bool(const std::string&)>& done, bool* eof = nullptr) {
  std::string got;
  char buf[4096];
  for (int waited = 0; waited < 3000 && !done(got);) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) == 0) {
      waited += 100;
      continue;
    }
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      if (eof) *eof = true;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST(AdminServerTest, AnswersWithTheHandlersResponse) {
  AdminServer server("127.0.0.1:0", echoHandler);
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;
  ASSERT_GT(server.port(), 0);
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  const AdminReply ok = adminGet(address, "/status?x=1");
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(ok.body, "{\"method\":\"GET\",\"target\":\"/status?x=1\"}");
  const AdminReply missing = adminGet(address, "/missing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "nope\n");
}

TEST(AdminServerTest, KeepsAConnectionAliveAcrossRequests) {
  AdminServer server("127.0.0.1:0", echoHandler);
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;
  const int fd = connectTo(server.port());
  ASSERT_GE(fd, 0);
  const std::string two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fd, two.data(), two.size()), static_cast<ssize_t>(two.size()));
  const std::string got = readUntil(fd, [](const std::string&) { return false; });  // to EOF
  ::close(fd);
  EXPECT_NE(got.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("Content-Type: application/json\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("\"target\":\"/a\""), std::string::npos) << got;
  EXPECT_NE(got.find("\"target\":\"/b\""), std::string::npos) << got;
  EXPECT_LT(got.find("\"target\":\"/a\""), got.find("\"target\":\"/b\""));
}

TEST(AdminServerTest, AMalformedRequestClosesOnlyThatConnection) {
  AdminServer server("127.0.0.1:0", echoHandler);
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;
  const int fd = connectTo(server.port());
  ASSERT_GE(fd, 0);
  const std::string junk = "NOT HTTP AT ALL\r\n\r\n";
  ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  const std::string got = readUntil(fd, [](const std::string&) { return false; });
  ::close(fd);
  EXPECT_EQ(got.find("200 OK"), std::string::npos) << got;
  EXPECT_EQ(adminGet("127.0.0.1:" + std::to_string(server.port()), "/after").status, 200);
}

TEST(AdminServerTest, StopClosesTheListenerAndOpenConnections) {
  AdminServer server("127.0.0.1:0", echoHandler);
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;
  const int port = server.port();
  const int idle = connectTo(port);
  ASSERT_GE(idle, 0);
  // One answered request first, so the connection is open on the server's side.
  const std::string req = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(idle, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  const std::string first = readUntil(idle, [](const std::string& s) { return s.find("\"/a\"}") != std::string::npos; });
  ASSERT_NE(first.find("200 OK"), std::string::npos) << first;
  server.stop();
  // The idle keep-alive connection sees EOF, and nothing accepts any more.
  bool eof = false;
  const std::string got = readUntil(idle, [](const std::string&) { return false; }, &eof);
  EXPECT_TRUE(eof) << "the connection stayed open";
  EXPECT_EQ(got, "");
  ::close(idle);
  const AdminReply after = adminGet("127.0.0.1:" + std::to_string(port), "/status", std::chrono::milliseconds(500));
  EXPECT_EQ(after.status, 0);
  EXPECT_FALSE(after.error.empty());
  server.stop();  // idempotent
}

TEST(AdminServerTest, StartFailsOnAnAddressInUse) {
  AdminServer first("127.0.0.1:0", echoHandler);
  std::string error;
  ASSERT_TRUE(first.start(error)) << error;
  AdminServer second("127.0.0.1:" + std::to_string(first.port()), echoHandler);
  EXPECT_FALSE(second.start(error));
  EXPECT_NE(error.find("Address already in use"), std::string::npos) << error;
  AdminServer bad("localhost", echoHandler);
  EXPECT_FALSE(bad.start(error));
  EXPECT_EQ(error, "admin address 'localhost': missing port (expected host:port)");
}

TEST(AdminServerTest, ClientReportsRefusedConnections) {
  int port;
  {
    AdminServer gone("127.0.0.1:0", echoHandler);
    std::string error;
    ASSERT_TRUE(gone.start(error)) << error;
    port = gone.port();
  }
  const AdminReply r = adminGet("127.0.0.1:" + std::to_string(port), "/status", std::chrono::milliseconds(1000));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "Connection refused");
}

}  // namespace
}  // namespace sluice::control
