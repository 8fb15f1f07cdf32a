// listenSocket: [::] takes IPv4 clients too (IPV6_V6ONLY off, whatever the
// host's default), which a captured pod's dual-stack listeners rely on.
#include "proxy/net/socket_util.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace sluice::net {
namespace {

TEST(SocketUtilTest, V6WildcardIsDualStack) {
  std::string error;
  const int fd = listenSocket(*ip::Address::parse("[::]:0"), false, &error);
  ASSERT_GE(fd, 0) << error;
  const ip::Address bound = localAddress(fd);
  if (bound.family() == AF_INET6) {
    int v6only = -1;
    socklen_t len = sizeof(v6only);
    ASSERT_EQ(::getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
    EXPECT_EQ(v6only, 0);
  }
  // An IPv4 client connects (the listen queue takes it without accept).
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  const ip::Address to = ip::Address::parse("127.0.0.1:0")->withPort(bound.port());
  EXPECT_EQ(::connect(client, to.sockAddr(), to.sockLen()), 0);
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof(peer);
  const int accepted = ::accept(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len);
  EXPECT_GE(accepted, 0);
  // Seen as ::ffff:127.0.0.1 on the dual-stack socket.
  if (bound.family() == AF_INET6)
    EXPECT_EQ(ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&peer), peer_len).ip(), "::ffff:127.0.0.1");
  if (accepted >= 0) ::close(accepted);
  ::close(client);
  ::close(fd);
}

TEST(SocketUtilTest, SpecificV6AddressStaysV6) {
  std::string error;
  const int fd = listenSocket(*ip::Address::parse("[::1]:0"), false, &error);
  if (fd < 0) GTEST_SKIP() << "no IPv6 loopback here: " << error;
  EXPECT_EQ(localAddress(fd).ip(), "::1");
  ::close(fd);
}

}  // namespace
}  // namespace sluice::net
