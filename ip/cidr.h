#pragma once
// An IP prefix ("10.0.0.0/8", "2001:db8::/32", or a bare address meaning
// /32 or /128), parsed at config time and matched against socket addresses
// with no allocation. Plain immutable value; any thread.
//
// An IPv4-mapped IPv6 peer ("::ffff:10.1.2.3", what a dual-stack listener
// sees for an IPv4 client) is matched as the IPv4 address it carries, so a
// v4 prefix means the same on a v4 and a dual-stack listener.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ip/address.h"

namespace sluice::ip {

class Cidr {
 public:
  // Null with `why` set when malformed, or when bits are set past the prefix
  // length ("10.1.0.0/8": a typo more often than an intent).
  static std::optional<Cidr> parse(std::string_view text, std::string* why = nullptr);

  bool contains(const Address& addr) const { return contains(addr.sockAddr()); }
  bool contains(const sockaddr* sa) const;
  // Canonical text: "10.0.0.0/8", "2001:db8::/32".
  std::string str() const;
  bool v6() const { return v6_; }
  // How specific it is: a longer prefix wins where several contain an address.
  unsigned prefixLength() const { return prefix_len_; }
  bool operator==(const Cidr& o) const { return str() == o.str(); }

 private:
  bool v6_ = false;
  uint8_t bytes_[16] = {};  // network-order address; the first 4 for IPv4
  uint8_t prefix_len_ = 0;
};

}  // namespace sluice::ip
