#include "proxy/grpc/message_reader.h"

#include <algorithm>

namespace sluice::grpc {

bool MessageReader::feed(std::string_view bytes) {
  if (error_) return false;
  while (!bytes.empty()) {
    if (have_prefix_ < kPrefix) {
      const size_t n = std::min(kPrefix - have_prefix_, bytes.size());
      std::copy_n(bytes.data(), n, prefix_ + have_prefix_);
      have_prefix_ += n;
      bytes.remove_prefix(n);
      if (have_prefix_ < kPrefix) return true;
      if (prefix_[0] != 0) {
        // 1 is "compressed", anything else is not a gRPC frame at all.
        error_ = Status{kInternal, prefix_[0] == 1 ? "the server sent a compressed message, which we never asked for"
                                                   : "a message prefix with flags " + std::to_string(prefix_[0])};
        return false;
      }
      length_ = (uint32_t{prefix_[1]} << 24) | (uint32_t{prefix_[2]} << 16) | (uint32_t{prefix_[3]} << 8) |
                uint32_t{prefix_[4]};
      if (length_ > max_) {
        error_ = Status{kResourceExhausted, "a message of " + std::to_string(length_) + " bytes, over the limit of " +
                                                std::to_string(max_)};
        return false;
      }
      body_.clear();
      body_.reserve(length_);
    }
    const size_t n = std::min<size_t>(length_ - body_.size(), bytes.size());
    body_.append(bytes.data(), n);
    bytes.remove_prefix(n);
    if (body_.size() == length_) {
      ready_.push_back(std::move(body_));
      body_ = std::string();
      have_prefix_ = 0;
    }
  }
  return true;
}

std::optional<std::string> MessageReader::next() {
  if (ready_.empty()) return std::nullopt;
  std::string m = std::move(ready_.front());
  ready_.pop_front();
  return m;
}

}  // namespace sluice::grpc
