#include "proxy/tls/client_hello.h"

#include <algorithm>
#include <cctype>

namespace sluice::tls {
namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHello = 1;
constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtAlpn = 16;

// Bounds-checked reads over one byte range; a failed read poisons the reader
// so callers check ok() once at the end of a block.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool ok() const { return ok_; }
  size_t left() const { return ok_ ? d_.size() - pos_ : 0; }
  uint32_t u8() { return take(1) ? static_cast<uint8_t>(d_[pos_ - 1]) : 0; }
  uint32_t u16() {
    if (!take(2)) return 0;
    return (uint32_t{static_cast<uint8_t>(d_[pos_ - 2])} << 8) | static_cast<uint8_t>(d_[pos_ - 1]);
  }
  std::string_view bytes(size_t n) { return take(n) ? d_.substr(pos_ - n, n) : std::string_view(); }
  void skip(size_t n) { take(n); }

 private:
  bool take(size_t n) {
    if (!ok_ || d_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::string_view d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

bool parseServerName(std::string_view ext, ClientHelloInfo& info) {
  Reader r(ext);
  Reader list(r.bytes(r.u16()));
  if (!r.ok()) return false;
  while (list.left() > 0) {
    const uint32_t type = list.u8();
    const std::string_view name = list.bytes(list.u16());
    if (!list.ok()) return false;
    if (type == 0 && info.server_name.empty()) {  // host_name; the first one counts
      info.server_name.assign(name);
      std::transform(info.server_name.begin(), info.server_name.end(), info.server_name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
    }
  }
  return true;
}

bool parseAlpn(std::string_view ext, ClientHelloInfo& info) {
  Reader r(ext);
  Reader list(r.bytes(r.u16()));
  if (!r.ok()) return false;
  while (list.left() > 0) {
    const std::string_view proto = list.bytes(list.u8());
    if (!list.ok() || proto.empty()) return false;
    info.alpn.emplace_back(proto);
  }
  return true;
}

bool parseBody(std::string_view body, ClientHelloInfo& info) {
  Reader r(body);
  r.skip(2 + 32);           // legacy_version, random
  r.skip(r.u8());           // legacy_session_id
  r.skip(r.u16());          // cipher_suites
  r.skip(r.u8());           // legacy_compression_methods
  if (!r.ok()) return false;
  if (r.left() == 0) return true;  // no extensions (old clients)
  Reader exts(r.bytes(r.u16()));
  if (!r.ok()) return false;
  while (exts.left() > 0) {
    const uint32_t type = exts.u16();
    const std::string_view ext = exts.bytes(exts.u16());
    if (!exts.ok()) return false;
    if (type == kExtServerName && !parseServerName(ext, info)) return false;
    if (type == kExtAlpn && !parseAlpn(ext, info)) return false;
  }
  return true;
}

}  // namespace

ClientHelloStatus parseClientHello(std::string_view data, ClientHelloInfo& info) {
  info = ClientHelloInfo{};
  if (data.empty()) return ClientHelloStatus::NeedMore;
  if (static_cast<uint8_t>(data[0]) != kHandshakeRecord) return ClientHelloStatus::NotTls;
  if (data.size() >= 2 && static_cast<uint8_t>(data[1]) != 3) return ClientHelloStatus::NotTls;
  // Gather handshake bytes from consecutive records until the whole
  // ClientHello message is there. A fragmented ClientHello is rare, so the
  // common case is a view into `data` with no copy.
  std::string joined;
  std::string_view handshake;
  size_t pos = 0;
  bool first = true;
  for (;;) {
    if (data.size() - pos < 5) return ClientHelloStatus::NeedMore;
    const auto type = static_cast<uint8_t>(data[pos]);
    const auto major = static_cast<uint8_t>(data[pos + 1]);
    const size_t len = (size_t{static_cast<uint8_t>(data[pos + 3])} << 8) | static_cast<uint8_t>(data[pos + 4]);
    if (type != kHandshakeRecord || major != 3 || len == 0 || len > 16384 + 256) return ClientHelloStatus::Invalid;
    if (data.size() - pos - 5 < len) return ClientHelloStatus::NeedMore;
    const std::string_view fragment = data.substr(pos + 5, len);
    pos += 5 + len;
    if (first && joined.empty()) {
      handshake = fragment;
    } else {
      if (joined.empty()) joined.assign(handshake);
      joined.append(fragment);
      handshake = joined;
    }
    first = false;
    if (handshake.size() < 4) continue;
    if (static_cast<uint8_t>(handshake[0]) != kClientHello) return ClientHelloStatus::Invalid;
    const size_t msg_len = (size_t{static_cast<uint8_t>(handshake[1])} << 16) |
                           (size_t{static_cast<uint8_t>(handshake[2])} << 8) | static_cast<uint8_t>(handshake[3]);
    if (msg_len > kMaxClientHello) return ClientHelloStatus::Invalid;
    if (handshake.size() - 4 < msg_len) continue;  // more records to come
    if (!parseBody(handshake.substr(4, msg_len), info)) {
      info = ClientHelloInfo{};
      return ClientHelloStatus::Invalid;
    }
    return ClientHelloStatus::Tls;
  }
}

}  // namespace sluice::tls
