#include "proxy/grpc/request.h"

#include <cstdint>

namespace sluice::grpc {

http::HeaderMap requestHeaders(const RequestHead& head) {
  http::HeaderMap h;
  h.add(http::headers::kMethod, "POST");
  h.add(http::headers::kScheme, head.scheme);
  h.add(http::headers::kPath, head.path);
  h.add(http::headers::kAuthority, head.authority);
  h.add("content-type", "application/grpc");
  // Tells intermediaries we read trailers, which carry the call's status.
  h.add("te", "trailers");
  h.add("user-agent", "sluice/" SLUICE_VERSION);
  if (head.timeout.count() > 0) {
    const auto ms = head.timeout.count();
    // At most 8 digits: 99,999,999 ms is over a day, more than any call here asks.
    h.add("grpc-timeout", ms % 1000 == 0 ? std::to_string(ms / 1000) + "S" : std::to_string(ms) + "m");
  }
  for (const auto& [name, value] : head.metadata) h.add(name, value);
  return h;
}

void frameMessage(std::string_view message, net::Buffer& out) {
  const auto n = static_cast<uint32_t>(message.size());
  const char prefix[5] = {0, static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                          static_cast<char>(n)};
  out.add(std::string_view(prefix, sizeof prefix));
  out.add(message);
}

}  // namespace sluice::grpc
