#include "ip/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sluice::ip {
namespace {

// True when the first `bits` bits of a and b agree.
bool prefixEquals(const uint8_t* a, const uint8_t* b, unsigned bits) {
  const unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* why) {
  auto fail = [&](const char* msg) -> std::optional<Cidr> {
    if (why) *why = msg;
    return std::nullopt;
  };
  const size_t slash = text.find('/');
  const std::string ip(text.substr(0, slash));
  Cidr c;
  if (::inet_pton(AF_INET, ip.c_str(), c.bytes_) == 1) {
    c.v6_ = false;
  } else if (::inet_pton(AF_INET6, ip.c_str(), c.bytes_) == 1) {
    c.v6_ = true;
  } else {
    return fail("invalid IP address (expected 10.0.0.0/8 or 2001:db8::/32)");
  }
  const unsigned max_len = c.v6_ ? 128 : 32;
  unsigned len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || len > max_len)
      return fail(c.v6_ ? "prefix length must be 0..128" : "prefix length must be 0..32");
  }
  c.prefix_len_ = static_cast<uint8_t>(len);
  // Reject host bits past the prefix: "10.1.0.0/8" probably meant /16.
  for (unsigned bit = len; bit < max_len; ++bit)
    if (c.bytes_[bit / 8] & (0x80 >> (bit % 8))) return fail("address has bits set past the prefix length");
  return c;
}

bool Cidr::contains(const sockaddr* sa) const {
  if (sa == nullptr) return false;
  const uint8_t* addr = nullptr;
  bool v6 = false;
  if (sa->sa_family == AF_INET) {
    addr = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
  } else if (sa->sa_family == AF_INET6) {
    addr = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
    v6 = true;
    if (!v6_ && std::memcmp(addr, kV4MappedPrefix, sizeof(kV4MappedPrefix)) == 0) {
      addr += sizeof(kV4MappedPrefix);
      v6 = false;
    }
  } else {
    return false;
  }
  return v6 == v6_ && prefixEquals(addr, bytes_, prefix_len_);
}

std::string Cidr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_, buf, sizeof(buf));
  return std::string(buf) + "/" + std::to_string(prefix_len_);
}

}  // namespace sluice::ip
