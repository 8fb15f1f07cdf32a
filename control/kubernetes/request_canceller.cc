#include "control/kubernetes/request_canceller.h"

#include <sys/socket.h>

namespace sluice::control::kubernetes {

void RequestCanceller::attach(int fd) {
  std::lock_guard lock(mu_);
  fd_ = fd;
  deadline_ = Clock::time_point::max();
  if (cancelled_ && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void RequestCanceller::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

bool RequestCanceller::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

void RequestCanceller::setDeadline(Clock::time_point deadline) {
  std::lock_guard lock(mu_);
  deadline_ = deadline;
}

void RequestCanceller::expire(Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (fd_ >= 0 && now >= deadline_) {
    ::shutdown(fd_, SHUT_RDWR);
    deadline_ = Clock::time_point::max();
  }
}

}  // namespace sluice::control::kubernetes
