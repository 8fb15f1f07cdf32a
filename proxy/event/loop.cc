#include "proxy/event/loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sluice::event {
namespace {

constexpr void* kWakeTag = nullptr;  // epoll data for the eventfd

}  // namespace

Loop::Loop() : thread_id_(std::this_thread::get_id()) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error(std::string("loop: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = kWakeTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  timers_.setNow(std::chrono::steady_clock::now());
  wall_now_ = std::chrono::system_clock::now();
}

Loop::~Loop() {
  clearDeferred();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void Loop::addFd(int fd, IoHandler* handler, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void Loop::removeFd(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void Loop::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    posted_.push_back(std::move(fn));
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void Loop::exit() {
  exit_.store(true, std::memory_order_release);
  post([] {});
}

void Loop::deferredDelete(std::unique_ptr<DeferredDeletable> obj) { deferred_.push_back(std::move(obj)); }

void SoonTask::schedule() {
  if (linked_) return;
  linked_ = true;
  prev_ = loop_.soon_tail_;
  next_ = nullptr;
  if (prev_) {
    prev_->next_ = this;
  } else {
    loop_.soon_head_ = this;
  }
  loop_.soon_tail_ = this;
}

void SoonTask::cancel() {
  if (!linked_) return;
  linked_ = false;
  (prev_ ? prev_->next_ : loop_.soon_head_) = next_;
  (next_ ? next_->prev_ : loop_.soon_tail_) = prev_;
  prev_ = next_ = nullptr;
}

void Loop::runSoon() {
  while (SoonTask* t = soon_head_) {
    t->cancel();
    t->runSoon();
  }
}

int Loop::timeoutMs() {
  if (!deferred_.empty() || soon_head_ != nullptr) return 0;
  const auto next = timers_.nextDeadline();
  if (!next) return -1;
  const auto now = std::chrono::steady_clock::now();
  if (*next <= now) return 0;
  // Round up so a timer never fires a hair early and spins a zero-timeout turn.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*next - now + std::chrono::microseconds(999));
  return static_cast<int>(std::min<int64_t>(ms.count(), 60'000));
}

void Loop::drainWakeup() {
  uint64_t v;
  while (::read(wake_fd_, &v, sizeof(v)) > 0) {
  }
}

void Loop::runPosted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void Loop::clearDeferred() {
  // Destructors may defer more deletions; loop until none are left.
  // The two vectors trade places and keep their capacity: no allocation per turn.
  while (!deferred_.empty()) {
    deferred_spare_.swap(deferred_);
    // Each object was last touched earlier in the turn and is cold: load
    // the next one while this one is destroyed.
    const size_t n = deferred_spare_.size();
    for (size_t i = 0; i < n; ++i) {
      if (i + 1 < n) __builtin_prefetch(deferred_spare_[i + 1].get());
      deferred_spare_[i].reset();
    }
    deferred_spare_.clear();
  }
}

void Loop::run() {
  thread_id_ = std::this_thread::get_id();
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!exit_.load(std::memory_order_acquire)) {
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeoutMs());
    timers_.setNow(std::chrono::steady_clock::now());
    wall_now_ = std::chrono::system_clock::now();
    for (int i = 0; i < n; ++i) {
      // The next handler is another connection's, cold by now: start its
      // load while this one runs.
      if (i + 1 < n) __builtin_prefetch(events[i + 1].data.ptr);
      if (events[i].data.ptr == kWakeTag) {
        drainWakeup();
        continue;
      }
      static_cast<IoHandler*>(events[i].data.ptr)->onIoEvent(events[i].events);
    }
    runSoon();
    timers_.runExpired();
    runSoon();
    runPosted();
    runSoon();
    clearDeferred();
  }
  runPosted();
  runSoon();
  clearDeferred();
  exit_.store(false, std::memory_order_release);  // run() may be called again
}

}  // namespace sluice::event
