#pragma once
// Ends a blocking API request from another thread: at shutdown, or when a
// watch has been silent past its deadline (the API server sends a bookmark
// or ends the watch well within timeoutSeconds; silence beyond that is a
// dead connection). It shuts the socket down, which wakes the blocked read.

#include <chrono>
#include <mutex>

namespace sluice::control::kubernetes {

class RequestCanceller {
 public:
  using Clock = std::chrono::steady_clock;

  // The socket of the request in flight (the requesting thread); -1 detaches.
  void attach(int fd);
  // No request may run from here on (any thread).
  void cancel();
  bool cancelled() const;
  // Shut the request down if nothing was read by `deadline` (the requesting
  // thread, again after each read); expire() checks it (a supervising thread).
  void setDeadline(Clock::time_point deadline);
  void expire(Clock::time_point now);

 private:
  mutable std::mutex mu_;
  int fd_ = -1;
  bool cancelled_ = false;
  Clock::time_point deadline_ = Clock::time_point::max();
};

}  // namespace sluice::control::kubernetes
