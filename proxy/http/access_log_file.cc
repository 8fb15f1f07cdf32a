// AccessLogFile: per-thread buffers drained by one background writer.
//
// Locks, and who takes them:
//   Registry::mu          open(), and the flushers when they list the files.
//   BufferedLogFile::reg_mu_    a thread's first write() to the file (registers
//                         its buffer), and the flushers when they list buffers.
//   ThreadBuffer::mu      the owning thread on every write(); a flusher only
//                         to swap the string out. No two workers share one.
//   BufferedLogFile::write_mu_  flushers only (the writer thread, flushAll()),
//                         held across write(2) so whole buffers -- and so
//                         whole lines -- go out one flusher at a time.
// Order: write_mu_ before reg_mu_ or a ThreadBuffer::mu; never the reverse.
#include "proxy/http/access_log.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sluice::http {
namespace {

constexpr size_t kWakeBytes = 64 * 1024;
constexpr size_t kMaxBufferedBytes = 8 * 1024 * 1024;
constexpr size_t kReserveBytes = 128 * 1024;
// A burst can grow a buffer to 8 MiB; give that memory back once written
// rather than keep two such strings per worker forever.
constexpr size_t kShrinkAboveBytes = 1024 * 1024;
constexpr auto kFlushInterval = std::chrono::milliseconds(100);
// A non-blocking fd (a stdout pipe set O_NONBLOCK by the parent) that stays
// full this many 100 ms polls in a row makes the rest of the buffer an error.
constexpr int kMaxWriteStalls = 50;

// One thread's pending lines for one file. Cache-line aligned: buffers of
// different workers must not share a line (PRINCIPLES.md #5).
struct alignas(64) ThreadBuffer {
  explicit ThreadBuffer(size_t reserve) {
    data.reserve(reserve);
    spare.reserve(reserve);
  }
  std::mutex mu;
  std::string data;      // guarded by mu
  bool retired = false;  // guarded by mu: the owning thread has exited
  std::string spare;     // guarded by the file's write_mu_
};

class BufferedLogFile final : public AccessLogFile {
 public:
  explicit BufferedLogFile(int fd) : fd_(fd) {
    buffers_.push_back(std::make_unique<ThreadBuffer>(0));
    orphan_ = buffers_.back().get();
  }

  void append(std::string_view line);
  void flush();
  // Flushes, then points the descriptor at a new open of `path`.
  bool reopen(const std::string& path, std::string* error);
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  ThreadBuffer* threadBuffer();
  void writeOut(const char* p, size_t n);  // under write_mu_
  void writeDirect(std::string_view line);

  const int fd_;
  std::mutex reg_mu_;
  std::vector<std::unique_ptr<ThreadBuffer>> buffers_;  // guarded by reg_mu_
  // For threads that write after their thread_local cache was destroyed
  // (from another thread_local's destructor); shared, so rarely contended.
  ThreadBuffer* orphan_;
  std::mutex write_mu_;
  std::vector<ThreadBuffer*> flushing_;  // guarded by write_mu_; kept for its capacity
  std::vector<ThreadBuffer*> reaped_;    // guarded by write_mu_; kept for its capacity
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> write_errors_{0};  // no metrics hook in the API yet; kept for debugging
};

struct Registry {
  std::mutex mu;
  std::unordered_map<std::string, std::unique_ptr<BufferedLogFile>> by_path;  // guarded by mu
  std::vector<BufferedLogFile*> files;                                         // guarded by mu
  std::thread writer;                                                          // guarded by mu
  pid_t writer_pid = 0;                                                        // guarded by mu
  bool exit_hook_installed = false;                                            // guarded by mu

  std::mutex wake_mu;
  std::condition_variable wake_cv;
  bool stop = false;              // guarded by wake_mu
  std::atomic<bool> wake{false};  // a buffer passed kWakeBytes
  // Set once the exit flush has run: later writes go straight to the fd.
  std::atomic<bool> exited{false};
};

// Never destroyed: workers may still write, and the exit hook still flush,
// while static destructors run.
Registry& registry() {
  static Registry* const r = new Registry;
  return *r;
}

// Each thread's buffers, found without a lock. Retiring on thread exit lets
// the next flush write out and free the buffer of a thread that is gone.
struct ThreadCache {
  ~ThreadCache();
  std::vector<std::pair<const BufferedLogFile*, ThreadBuffer*>> entries;
};
thread_local bool tl_cache_gone = false;  // trivially destructible: readable after ~ThreadCache
thread_local ThreadCache tl_cache;

ThreadCache::~ThreadCache() {
  tl_cache_gone = true;
  for (auto& [file, buffer] : entries) {
    std::lock_guard lock(buffer->mu);
    buffer->retired = true;
  }
}

void wakeWriter() {
  Registry& reg = registry();
  // A wake-up that races with the writer going to sleep is lost; the 100 ms
  // tick bounds the delay, and workers never touch wake_mu.
  if (!reg.wake.exchange(true, std::memory_order_acq_rel)) reg.wake_cv.notify_one();
}

void listFiles(std::vector<BufferedLogFile*>& out) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mu);
  out.assign(reg.files.begin(), reg.files.end());
}

void writerMain() {
  Registry& reg = registry();
  std::vector<BufferedLogFile*> files;
  std::unique_lock lock(reg.wake_mu);
  while (!reg.stop) {
    reg.wake_cv.wait_for(lock, kFlushInterval, [&] { return reg.stop || reg.wake.load(std::memory_order_acquire); });
    if (reg.stop) break;  // the exit hook flushes once the writer is joined
    reg.wake.store(false, std::memory_order_release);
    lock.unlock();
    listFiles(files);
    for (BufferedLogFile* f : files) f->flush();
    lock.lock();
  }
}

void flushAtExit() {
  Registry& reg = registry();
  std::thread writer;
  {
    std::lock_guard lock(reg.mu);
    // In a forked child the writer does not exist (nothing to join), and
    // what is buffered is the parent's to write, not ours.
    if (reg.writer_pid != getpid()) return;
    writer = std::move(reg.writer);
  }
  {
    std::lock_guard lock(reg.wake_mu);
    reg.stop = true;
  }
  reg.wake_cv.notify_one();
  if (writer.joinable()) writer.join();
  reg.exited.store(true, std::memory_order_release);
  AccessLogFile::flushAll();
}

// Under Registry::mu. The writer is started with every signal blocked so it
// inherits that mask: signals stay with the threads that wait for them.
bool startWriterLocked(Registry& reg, std::string* error) {
  if (reg.writer.joinable() || reg.exited.load(std::memory_order_acquire)) return true;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    reg.writer = std::thread(writerMain);
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (error) *error = std::string("cannot start the access log writer thread: ") + e.what();
    return false;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_setname_np(reg.writer.native_handle(), "sluice-alog");
  reg.writer_pid = getpid();
  if (!reg.exit_hook_installed) {
    reg.exit_hook_installed = true;
    std::atexit(flushAtExit);
  }
  return true;
}

ThreadBuffer* BufferedLogFile::threadBuffer() {
  if (tl_cache_gone) return orphan_;
  for (auto& [file, buffer] : tl_cache.entries) {
    if (file == this) return buffer;
  }
  auto owned = std::make_unique<ThreadBuffer>(kReserveBytes);
  ThreadBuffer* buffer = owned.get();
  {
    std::lock_guard lock(reg_mu_);
    buffers_.push_back(std::move(owned));
  }
  tl_cache.entries.emplace_back(this, buffer);
  return buffer;
}

void BufferedLogFile::append(std::string_view line) {
  if (registry().exited.load(std::memory_order_acquire)) {
    writeDirect(line);
    return;
  }
  ThreadBuffer* b = threadBuffer();
  const size_t add = line.size() + 1;
  size_t before;
  {
    std::lock_guard lock(b->mu);
    before = b->data.size();
    if (before + add > kMaxBufferedBytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    b->data.append(line);
    b->data.push_back('\n');
  }
  if (before < kWakeBytes && before + add >= kWakeBytes) wakeWriter();
}

void BufferedLogFile::flush() {
  std::lock_guard write_lock(write_mu_);
  {
    std::lock_guard lock(reg_mu_);
    flushing_.clear();
    for (auto& b : buffers_) flushing_.push_back(b.get());
  }
  reaped_.clear();
  for (ThreadBuffer* b : flushing_) {
    {
      std::lock_guard lock(b->mu);
      // Read before the swap: once retired, nothing more is appended, so
      // this swap takes the buffer's last lines.
      if (b->retired) reaped_.push_back(b);
      if (!b->data.empty()) b->data.swap(b->spare);
    }
    if (!b->spare.empty()) {
      writeOut(b->spare.data(), b->spare.size());
      b->spare.clear();
    }
    if (b->spare.capacity() > kShrinkAboveBytes) {
      std::string fresh;
      fresh.reserve(kReserveBytes);
      b->spare.swap(fresh);
    }
  }
  if (!reaped_.empty()) {
    std::lock_guard lock(reg_mu_);
    std::erase_if(buffers_, [&](const std::unique_ptr<ThreadBuffer>& b) {
      return std::find(reaped_.begin(), reaped_.end(), b.get()) != reaped_.end();
    });
  }
}

void BufferedLogFile::writeOut(const char* p, size_t n) {
  int stalls = 0;
  while (n > 0) {
    const ssize_t r = ::write(fd_, p, n);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
      stalls = 0;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && stalls++ < kMaxWriteStalls) {
      pollfd pfd{fd_, POLLOUT, 0};
      ::poll(&pfd, 1, static_cast<int>(kFlushInterval.count()));
      continue;
    }
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
}

void BufferedLogFile::writeDirect(std::string_view line) {
  std::lock_guard write_lock(write_mu_);
  iovec iov[2] = {{const_cast<char*>(line.data()), line.size()}, {const_cast<char*>("\n"), 1}};
  ssize_t r;
  do {
    r = ::writev(fd_, iov, 2);
  } while (r < 0 && errno == EINTR);
  if (r < 0) r = 0;  // writeOut retries or counts the error
  const size_t done = static_cast<size_t>(r);
  if (done < line.size()) writeOut(line.data() + done, line.size() - done);
  if (done <= line.size()) writeOut("\n", 1);
}

}  // namespace

AccessLogFile* AccessLogFile::open(const std::string& path, std::string* error) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mu);
  if (auto it = reg.by_path.find(path); it != reg.by_path.end()) return it->second.get();
  if (!startWriterLocked(reg, error)) return nullptr;
  int fd;
  if (path == "/dev/stdout") {
    fd = STDOUT_FILENO;
  } else if (path == "/dev/stderr") {
    fd = STDERR_FILENO;
  } else {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      if (error) *error = "cannot open " + path + " for append: " + std::generic_category().message(err);
      return nullptr;
    }
  }
  auto file = std::make_unique<BufferedLogFile>(fd);
  BufferedLogFile* raw = file.get();
  reg.by_path.emplace(path, std::move(file));
  reg.files.push_back(raw);
  return raw;
}

bool BufferedLogFile::reopen(const std::string& path, std::string* error) {
  flush();  // what was logged before the rotation belongs to the old file
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    if (error) *error = "cannot open " + path + " for append: " + std::generic_category().message(err);
    return false;
  }
  // Under the flushers' lock, so a buffer never straddles the two files;
  // dup3 swaps the file behind fd_ atomically, so fd_ stays valid throughout.
  std::lock_guard write_lock(write_mu_);
  const bool ok = ::dup3(fd, fd_, O_CLOEXEC) >= 0;
  const int err = errno;
  ::close(fd);
  if (!ok && error) *error = "cannot switch to the new " + path + ": " + std::generic_category().message(err);
  return ok;
}

AccessLogFile::ReopenResult AccessLogFile::reopenAll() {
  std::vector<std::pair<std::string, BufferedLogFile*>> files;
  {
    Registry& reg = registry();
    std::lock_guard lock(reg.mu);
    for (auto& [path, file] : reg.by_path)
      if (path != "/dev/stdout" && path != "/dev/stderr") files.emplace_back(path, file.get());
  }
  ReopenResult result;
  for (auto& [path, file] : files) {
    std::string error;
    if (file->reopen(path, &error)) ++result.reopened;
    else result.errors.push_back(std::move(error));
  }
  return result;
}

void AccessLogFile::write(std::string_view line) { static_cast<BufferedLogFile*>(this)->append(line); }

void AccessLogFile::flushAll() {
  std::vector<BufferedLogFile*> files;
  listFiles(files);
  for (BufferedLogFile* f : files) f->flush();
}

uint64_t AccessLogFile::droppedLines() const { return static_cast<const BufferedLogFile*>(this)->dropped(); }

}  // namespace sluice::http
