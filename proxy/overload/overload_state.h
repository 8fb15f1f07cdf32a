#pragma once
// What the overload manager decided, as the workers read it: one word of
// action bits. The main thread stores it after each refresh; a worker loads
// it (relaxed) once per accept or per request, so a decision reaches the data
// path at most one refresh late and costs it one shared read-mostly line.

#include <atomic>
#include <cstdint>

#include "config/overload.h"

namespace sluice::overload {

class OverloadState {
 public:
  static constexpr uint32_t bit(config::OverloadAction a) { return 1u << static_cast<unsigned>(a); }

  // Any thread.
  bool active(config::OverloadAction a) const { return (bits_.load(std::memory_order_relaxed) & bit(a)) != 0; }
  uint32_t bits() const { return bits_.load(std::memory_order_relaxed); }
  // Main thread.
  void publish(uint32_t bits) { bits_.store(bits, std::memory_order_relaxed); }

  // A state nothing ever publishes to (a proxy without `overload:`, tests).
  static const OverloadState& none() {
    static const OverloadState s;
    return s;
  }

 private:
  alignas(64) std::atomic<uint32_t> bits_{0};
};

}  // namespace sluice::overload
