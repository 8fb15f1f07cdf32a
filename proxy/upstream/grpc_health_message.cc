#include "proxy/upstream/grpc_health_message.h"

namespace sluice::upstream::grpc_health {
namespace {

constexpr size_t kPrefix = 5;

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads a varint at `at`, advancing it; false when truncated or over 10 bytes.
bool getVarint(std::string_view in, size_t& at, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70 && at < in.size(); shift += 7) {
    const auto b = static_cast<uint8_t>(in[at++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

std::string encodeRequest(std::string_view service) {
  std::string message;
  if (!service.empty()) {
    message.push_back(0x0a);  // field 1, length-delimited
    putVarint(message, service.size());
    message.append(service);
  }
  std::string out(kPrefix, '\0');
  const auto n = static_cast<uint32_t>(message.size());
  out[1] = static_cast<char>(n >> 24);
  out[2] = static_cast<char>(n >> 16);
  out[3] = static_cast<char>(n >> 8);
  out[4] = static_cast<char>(n);
  return out + message;
}

std::optional<uint64_t> decodeResponseStatus(std::string_view body) {
  if (body.size() < kPrefix || body[0] != 0) return std::nullopt;  // short, or compressed
  const uint32_t n = (uint32_t(uint8_t(body[1])) << 24) | (uint32_t(uint8_t(body[2])) << 16) |
                     (uint32_t(uint8_t(body[3])) << 8) | uint32_t(uint8_t(body[4]));
  if (body.size() - kPrefix != n) return std::nullopt;
  const std::string_view msg = body.substr(kPrefix);
  uint64_t status = 0;
  for (size_t at = 0; at < msg.size();) {
    uint64_t key = 0, v = 0;
    if (!getVarint(msg, at, key)) return std::nullopt;
    switch (key & 7) {
      case 0:  // varint
        if (!getVarint(msg, at, v)) return std::nullopt;
        if ((key >> 3) == 1) status = v;
        break;
      case 1:  // fixed64
        if (msg.size() - at < 8) return std::nullopt;
        at += 8;
        break;
      case 2:  // length-delimited
        if (!getVarint(msg, at, v) || v > msg.size() - at) return std::nullopt;
        at += v;
        break;
      case 5:  // fixed32
        if (msg.size() - at < 4) return std::nullopt;
        at += 4;
        break;
      default:
        return std::nullopt;
    }
  }
  return status;
}

}  // namespace sluice::upstream::grpc_health
