#pragma once
// One epoll loop per thread. Every object registered with a loop (fd
// handlers, timers, deferred deletions) belongs to that loop's thread;
// post() is the only call other threads may make.
//
// A turn: wait in epoll_wait (timeout = next timer deadline), read the clock
// once, dispatch I/O events, run expired timers, run posted callbacks, then
// destroy everything deferred-deleted. Scheduled SoonTasks run after each of
// the three dispatch phases.

#include <sys/epoll.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/event/timer.h"

namespace sluice::event {

// Receives epoll events for one fd. Registration is edge-triggered, made once
// for the fd's life (EPOLLIN|EPOLLOUT|EPOLLRDHUP): the handler reads and
// writes until EAGAIN and keeps its own interest state.
class IoHandler {
 public:
  virtual void onIoEvent(uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

// Anything destroyed through Loop::deferredDelete().
class DeferredDeletable {
 public:
  virtual ~DeferredDeletable() = default;
};

class Loop;

// Work to run at the end of the current phase of this loop turn (after the
// I/O events, after the timers, after the posted callbacks), e.g. sending
// everything a connection was given while one event was handled in a single
// write. Cheaper than a zero-delay timer: scheduling links an intrusive list
// node, no heap. Destroying a scheduled task unschedules it. Loop thread only.
class SoonTask {
 public:
  explicit SoonTask(Loop& loop) : loop_(loop) {}
  virtual ~SoonTask() { cancel(); }
  SoonTask(const SoonTask&) = delete;
  SoonTask& operator=(const SoonTask&) = delete;
  // Idempotent while scheduled.
  void schedule();
  void cancel();
  bool scheduled() const { return linked_; }

 protected:
  virtual void runSoon() = 0;

 private:
  friend class Loop;
  Loop& loop_;
  SoonTask* prev_ = nullptr;
  SoonTask* next_ = nullptr;
  bool linked_ = false;
};

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs turns until exit() is called. Returns on the loop thread.
  void run();
  // Thread-safe: makes run() return after the current turn.
  void exit();
  // Thread-safe: runs fn on the loop thread in a later turn. FIFO.
  void post(std::function<void()> fn);
  void addFd(int fd, IoHandler* handler, uint32_t events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  void removeFd(int fd);

  // A timer enabled with 0ms runs in the next turn; that is how objects
  // schedule deferred work (e.g. resuming reads) and cancel it by destruction.
  std::unique_ptr<Timer> createTimer(std::function<void()> callback) {
    return std::make_unique<Timer>(timers_, std::move(callback));
  }
  TimerQueue& timers() { return timers_; }

  // Destroys obj at the end of this turn, after every callback that may still
  // hold a pointer to it has returned.
  void deferredDelete(std::unique_ptr<DeferredDeletable> obj);

  // The time read at the start of this turn.
  MonoTime now() const { return timers_.now(); }
  // The wall-clock time read at the start of this turn (access log
  // timestamps, HTTP dates), so a request reads no clock of its own.
  std::chrono::system_clock::time_point wallNow() const { return wall_now_; }
  bool isLoopThread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  friend class SoonTask;
  // Runs scheduled SoonTasks, including ones scheduled while running.
  void runSoon();
  void drainWakeup();
  void runPosted();
  void clearDeferred();
  int timeoutMs();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> exit_{false};
  std::thread::id thread_id_;
  TimerQueue timers_;
  std::chrono::system_clock::time_point wall_now_;

  std::mutex post_mu_;  // guards posted_ only; never held while running callbacks
  std::vector<std::function<void()>> posted_;
  std::vector<std::unique_ptr<DeferredDeletable>> deferred_;
  std::vector<std::unique_ptr<DeferredDeletable>> deferred_spare_;  // being destroyed
  SoonTask* soon_head_ = nullptr;
  SoonTask* soon_tail_ = nullptr;
};

}  // namespace sluice::event
