#pragma once
// MessageReader: gRPC's length-prefixed messages out of a response body
// (PROTOCOL-HTTP2, "Length-Prefixed-Message": a compressed flag byte, a
// 4-byte big-endian length, then the message). The body arrives in DATA
// frames that neither start nor end on message boundaries: a message may
// span many frames, a frame may hold many messages, a prefix may be cut
// anywhere.
//
// Bytes are copied in as they come, so the caller drains its buffer (and
// gives the flow-control window back) at once; what is held is at most one
// message, never more than the bound given at construction. A message
// over the bound fails RESOURCE_EXHAUSTED as soon as its prefix is read,
// before any of it is held; a compressed one fails INTERNAL (we never send
// grpc-accept-encoding, so a server may not compress). After a failure
// nothing more is read.
//
// Plain bytes in, strings out: no I/O, no loop (a fuzz target feeds it).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/grpc/status.h"

namespace sluice::grpc {

class MessageReader {
 public:
  explicit MessageReader(size_t max_message_bytes) : max_(max_message_bytes) {}

  // Takes all of `bytes`. False once the body is malformed (error() says
  // how); later calls take nothing.
  bool feed(std::string_view bytes);
  // The next complete message, oldest first; nullopt when none is ready.
  std::optional<std::string> next();
  // The failure that stopped reading, if any.
  const std::optional<Status>& error() const { return error_; }
  // Bytes of a message not complete yet (a prefix or a body cut short): at
  // the end of the stream they mean it ended inside a message.
  bool midMessage() const { return have_prefix_ > 0; }
  size_t maxMessageBytes() const { return max_; }

 private:
  static constexpr size_t kPrefix = 5;
  const size_t max_;
  uint8_t prefix_[kPrefix] = {};
  size_t have_prefix_ = 0;   // 0..5; 5 while the body is read
  uint32_t length_ = 0;      // of the message being read
  std::string body_;
  std::deque<std::string> ready_;
  std::optional<Status> error_;
};

}  // namespace sluice::grpc
