#pragma once
// A socket address (IPv4 or IPv6) parsed from "host:port" / "[v6]:port".
// Plain value type; no DNS: endpoints and listeners are numeric addresses.

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace sluice::ip {

class Address {
 public:
  Address() = default;
  // Parses "1.2.3.4:80" or "[::1]:80". Returns nullopt with *error set to a
  // short reason ("missing port", "port out of range", "invalid IP address").
  static std::optional<Address> parse(std::string_view text, std::string* error = nullptr);
  static Address fromSockaddr(const sockaddr* sa, socklen_t len);

  const sockaddr* sockAddr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t sockLen() const { return len_; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  Address withPort(uint16_t port) const;
  // "1.2.3.4:80" / "[::1]:80"
  std::string str() const;
  // "1.2.3.4" / "::1"
  std::string ip() const;
  bool operator==(const Address& o) const { return str() == o.str(); }

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace sluice::ip
