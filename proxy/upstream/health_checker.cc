#include "proxy/upstream/health_checker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <string_view>

namespace sluice::upstream {
namespace {

// A reply that has not matched within this many bytes never will.
constexpr size_t kMaxReply = 64 * 1024;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// "HTTP/1.x NNN[ reason]" (line without its line ending) -> NNN, or -1.
int parseStatusLine(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !isDigit(line[7]) || line[8] != ' ') return -1;
  if (!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11])) return -1;
  if (line.size() > 12 && line[12] != ' ') return -1;
  return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

}  // namespace

// One host's state for the checker's life. It is the epoll handler of its
// probe socket, so it outlives the checker until the end of the loop turn
// (see ~HealthChecker); parent_ is null from then on.
class HealthChecker::HostCheck final : public event::IoHandler, public event::DeferredDeletable {
 public:
  HostCheck(HealthChecker& parent, size_t index, net::Address address)
      : loop_(parent.loop_),
        parent_(&parent),
        index_(index),
        address_(std::move(address)),
        interval_timer_(loop_.createTimer([this] { startCheck(); })),
        timeout_timer_(loop_.createTimer([this] { finish(false, true); })) {}
  ~HostCheck() override { closeSocket(); }

  void scheduleIn(event::Duration after) { interval_timer_->enable(after); }

  void detach() {
    closeSocket();
    interval_timer_->disable();
    timeout_timer_->disable();
    parent_ = nullptr;
  }

  void onIoEvent(uint32_t events) override;

  bool healthy_ = true;
  Counters counters_;

 private:
  void startCheck();
  // false once the check has finished.
  bool flushRequest();
  void readReply();
  // Returns true when `reply_` holds a verdict, stored in *pass.
  bool evaluate(size_t old_size, bool* pass) const;
  // Ends the check. May call OnChange, which may destroy the checker: callers
  // return right after.
  void finish(bool pass, bool timed_out);
  void closeSocket();

  event::Loop& loop_;
  HealthChecker* parent_;
  const size_t index_;
  const net::Address address_;
  int fd_ = -1;
  bool connecting_ = false;
  size_t written_ = 0;
  std::string reply_;  // kept across checks for its capacity
  bool checked_once_ = false;
  uint32_t consecutive_passes_ = 0;
  uint32_t consecutive_failures_ = 0;
  std::unique_ptr<event::Timer> interval_timer_;
  std::unique_ptr<event::Timer> timeout_timer_;
};

void HealthChecker::HostCheck::startCheck() {
  assert(fd_ < 0);
  ++counters_.attempts;
  written_ = 0;
  reply_.clear();
  connecting_ = true;
  timeout_timer_->enable(parent_->cfg_.timeout);
  fd_ = ::socket(address_.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return finish(false, false);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // An immediate success is handled like EINPROGRESS: registering an already
  // writable socket reports EPOLLOUT at once, so there is one code path.
  if (::connect(fd_, address_.sockAddr(), address_.sockLen()) != 0 && errno != EINPROGRESS && errno != EINTR)
    return finish(false, false);
  loop_.addFd(fd_, this);
}

void HealthChecker::HostCheck::onIoEvent(uint32_t events) {
  // The check may have ended earlier in this turn, leaving this event stale.
  // A new check cannot have started yet: checks start from timers, which run
  // after the turn's I/O events.
  if (fd_ < 0 || parent_ == nullptr) return;
  if (connecting_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return finish(false, false);
    connecting_ = false;
  }
  if (!flushRequest()) return;
  if (written_ < parent_->request_.size()) return;  // the rest goes on EPOLLOUT
  const bool await_reply = parent_->cfg_.http.has_value() || !parent_->cfg_.tcp->expect.empty();
  if (!await_reply) return finish(true, false);
  readReply();
}

bool HealthChecker::HostCheck::flushRequest() {
  const std::string& req = parent_->request_;
  while (written_ < req.size()) {
    const ssize_t n = ::send(fd_, req.data() + written_, req.size() - written_, MSG_NOSIGNAL);
    if (n > 0) {
      written_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else {
      finish(false, false);  // reset or broken pipe
      return false;
    }
  }
  return true;
}

void HealthChecker::HostCheck::readReply() {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      const size_t old_size = reply_.size();
      reply_.append(buf, static_cast<size_t>(n));
      bool pass = false;
      if (evaluate(old_size, &pass)) return finish(pass, false);
      if (reply_.size() >= kMaxReply) return finish(false, false);
    } else if (n == 0) {
      return finish(false, false);  // closed before the reply was complete
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      return finish(false, false);
    }
  }
}

bool HealthChecker::HostCheck::evaluate(size_t old_size, bool* pass) const {
  const config::HealthCheckConfig& cfg = parent_->cfg_;
  if (!cfg.http) {
    // Search only where a new match can be: bytes before old_size were seen.
    const std::string& expect = cfg.tcp->expect;
    const size_t from = old_size >= expect.size() ? old_size - expect.size() + 1 : 0;
    *pass = reply_.find(expect, from) != std::string::npos;
    return *pass;
  }
  const size_t eol = reply_.find('\n', old_size);
  if (eol == std::string::npos) return false;
  std::string_view line(reply_.data(), eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const int status = parseStatusLine(line);
  *pass = std::any_of(cfg.http->expected_statuses.begin(), cfg.http->expected_statuses.end(),
                      [status](const std::pair<int, int>& r) { return status >= r.first && status <= r.second; });
  return true;
}

void HealthChecker::HostCheck::finish(bool pass, bool timed_out) {
  closeSocket();
  timeout_timer_->disable();
  const config::HealthCheckConfig& cfg = parent_->cfg_;
  ++(pass ? counters_.successes : counters_.failures);
  if (timed_out) ++counters_.timeouts;

  bool flipped = false;
  if (pass) {
    consecutive_failures_ = 0;
    ++consecutive_passes_;
    if (!healthy_ && consecutive_passes_ >= std::max<uint32_t>(1, cfg.healthy_threshold)) flipped = true;
  } else {
    consecutive_passes_ = 0;
    ++consecutive_failures_;
    // Before the first verdict a healthy host is only assumed healthy, so one
    // failure is enough evidence against it.
    if (healthy_ && (!checked_once_ || consecutive_failures_ >= std::max<uint32_t>(1, cfg.unhealthy_threshold)))
      flipped = true;
  }
  checked_once_ = true;
  if (flipped) healthy_ = !healthy_;

  event::Duration wait = cfg.interval;
  if (healthy_ && parent_->had_traffic_ && !parent_->had_traffic_(index_)) wait = cfg.no_traffic_interval;
  const uint64_t jitter_ms = static_cast<uint64_t>(std::max<int64_t>(0, cfg.jitter.count()));
  wait += event::Duration(static_cast<int64_t>(parent_->random_.below(jitter_ms + 1)));
  interval_timer_->enable(wait);

  if (flipped && parent_->on_change_) {
    // A copy: the callback may destroy the checker, and with it on_change_.
    const OnChange on_change = parent_->on_change_;
    on_change(index_, healthy_);
  }
}

void HealthChecker::HostCheck::closeSocket() {
  if (fd_ < 0) return;
  loop_.removeFd(fd_);
  ::close(fd_);
  fd_ = -1;
}

namespace {

std::string buildRequest(const config::HealthCheckConfig& cfg, const std::string& host_header_default) {
  if (!cfg.http) return cfg.tcp->send;
  const std::string& host = cfg.http->host.empty() ? host_header_default : cfg.http->host;
  return "GET " + cfg.http->path + " HTTP/1.1\r\nHost: " + host +
         "\r\nUser-Agent: sluice-health-check\r\nConnection: close\r\n\r\n";
}

}  // namespace

HealthChecker::HealthChecker(event::Loop& loop, const config::HealthCheckConfig& cfg, std::string host_header_default,
                             std::vector<net::Address> hosts, util::RandomSource& random, OnChange on_change,
                             HadTraffic had_traffic)
    : loop_(loop),
      cfg_(cfg),
      request_(buildRequest(cfg, host_header_default)),
      random_(random),
      on_change_(std::move(on_change)),
      had_traffic_(std::move(had_traffic)) {
  assert(cfg_.http || cfg_.tcp);
  hosts_.reserve(hosts.size());
  for (size_t i = 0; i < hosts.size(); ++i) hosts_.push_back(std::make_unique<HostCheck>(*this, i, std::move(hosts[i])));
}

HealthChecker::~HealthChecker() {
  // A HostCheck may be named by an epoll event still queued in this turn, or
  // be the one running (a timer or OnChange up the stack), so it is freed at
  // the end of the turn rather than now.
  for (auto& h : hosts_) {
    h->detach();
    loop_.deferredDelete(std::move(h));
  }
}

void HealthChecker::start() {
  const uint64_t interval_ms = static_cast<uint64_t>(std::max<int64_t>(0, cfg_.interval.count()));
  for (auto& h : hosts_) h->scheduleIn(event::Duration(static_cast<int64_t>(random_.below(interval_ms))));
}

bool HealthChecker::healthy(size_t host) const { return hosts_[host]->healthy_; }

const HealthChecker::Counters& HealthChecker::counters(size_t host) const { return hosts_[host]->counters_; }

}  // namespace sluice::upstream
