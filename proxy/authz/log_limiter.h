#pragma once
// Bounds a log line that peers can trigger at will (an authz denial): at
// most `per_second` lines per one-second window; the rest are counted and
// the count is handed to the next line that is written, so the log says how
// much it left out. One per thread (thread_local): no sharing, no locks.

#include <cstdint>

#include "proxy/event/timer.h"

namespace sluice::authz {

class LogLimiter {
 public:
  explicit LogLimiter(uint32_t per_second) : per_second_(per_second) {}

  // True when a line may be written at `now`. Then `suppressed` is set to
  // the lines refused since the last written one (0 if none), else it is
  // left alone.
  bool admit(event::MonoTime now, uint64_t& suppressed) {
    if (!started_ || now - window_start_ >= std::chrono::seconds(1)) {
      started_ = true;
      window_start_ = now;
      used_ = 0;
    }
    if (used_ >= per_second_) {
      ++suppressed_;
      return false;
    }
    ++used_;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  uint32_t per_second_;
  bool started_ = false;
  event::MonoTime window_start_{};
  uint32_t used_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace sluice::authz
