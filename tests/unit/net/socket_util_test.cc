#include "proxy/net/socket_util.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::net {
namespace {

int optionOf(int fd) {
  int v6only = -1;
  socklen_t len = sizeof(v6only);
  EXPECT_EQ(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
  return v6only;
}

// "[::]" is both families whatever net.ipv6.bindv6only says (the injected
// sidecar's health listener relies on it); an IPv4 client reaches it.
TEST(ListenSocket, TheIpv6WildcardTakesIpv4Too) {
  std::string error;
  const int fd = listenSocket(*ip::Address::parse("[::]:0"), false, &error);
  if (fd < 0 && error.find("Address family not supported") != std::string::npos)
    GTEST_SKIP() << "no IPv6 in this kernel: " << error;
  ASSERT_GE(fd, 0) << error;
  EXPECT_EQ(optionOf(fd), 0);
  const ip::Address bound = localAddress(fd);
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(bound.port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0) << std::strerror(errno);
  ::close(client);
  ::close(fd);
}

}  // namespace
}  // namespace sluice::net
