#include "proxy/redis/redis_client.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>

#include "proxy/stats/named_counters.h"
#include "proxy/util/backoff.h"
#include "proxy/util/random.h"

namespace sluice::redis {

LuaScript::LuaScript(std::string text) : text_(std::move(text)) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text_.data(), text_.size(), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < 20; ++i) {
    sha_[2 * i] = kHex[digest[i] >> 4];
    sha_[2 * i + 1] = kHex[digest[i] & 15];
  }
  sha_[40] = '\0';
}

void RedisRequest::cancel() {
  if (client_ != nullptr) client_->cancel(*this);
}

RedisClient::RedisClient(event::Loop& loop, const ip::Address& address)
    : loop_(loop), address_(address), host_(address.ip()), port_(address.port()) {
  connect_timer_ = loop_.createTimer([this] {
    // hiredis has no connect timeout; a SYN into the void would otherwise
    // hold the client in Connecting for minutes. Freeing fails the queued
    // calls and cleanup() schedules the next attempt.
    if (state_ == State::Connecting && ac_ != nullptr) redisAsyncFree(ac_);
  });
  backoff_timer_ = loop_.createTimer([this] { connect(); });
  deadline_timer_ = loop_.createTimer([this] { onDeadline(); });
  const stats::Labels labels{{"address", address_.str()}};
  connects_ = stats::namedCounter("sluice_redis_connects_total", "Connections to Redis established", labels);
  connect_failures_ = stats::namedCounter("sluice_redis_connect_failures_total",
                                          "Connection attempts to Redis that failed or timed out", labels);
  connected_ = stats::namedCounter("sluice_redis_connected", "Worker connections to Redis that are up", labels,
                                   /*gauge=*/true);
  connect();
}

RedisClient::~RedisClient() {
  destroying_ = true;
  for (auto& c : calls_)
    if (c.request != nullptr) c.request->client_ = nullptr;
  calls_.clear();
  // Runs every queued reply callback with NULL (ignored: destroying_), then
  // cleanup(), which unregisters the fd before hiredis closes it.
  if (ac_ != nullptr) redisAsyncFree(ac_);
}

void RedisClient::connect() {
  state_ = State::Connecting;
  redisAsyncContext* ac = redisAsyncConnect(host_.c_str(), port_);
  if (ac == nullptr || ac->err != 0) {
    if (ac != nullptr) redisAsyncFree(ac);  // no hooks attached yet: nothing calls back
    connect_failures_->inc();
    scheduleReconnect();
    return;
  }
  ac_ = ac;
  fd_ = ac->c.fd;
  ac->data = this;
  ac->ev.data = this;
  ac->ev.addRead = &RedisClient::addRead;
  ac->ev.delRead = &RedisClient::delRead;
  ac->ev.addWrite = &RedisClient::addWrite;
  ac->ev.delWrite = &RedisClient::delWrite;
  ac->ev.cleanup = &RedisClient::cleanup;
  want_read_ = want_write_ = readable_ = hangup_ = write_blocked_ = false;
  loop_.addFd(fd_, this);
  // Asks for write interest: the connect completes on the first writable
  // event (registering reports it at once if the handshake already finished).
  redisAsyncSetConnectCallback(ac, &RedisClient::onConnect);
  connect_timer_->enable(kConnectTimeout);
}

void RedisClient::scheduleReconnect() {
  state_ = State::Backoff;
  // Full jitter: workers (and proxies) that lost the same server spread
  // their reconnects instead of arriving together.
  backoff_timer_->enable(util::fullJitterBackoff(++failures_, kBackoffBase, kBackoffMax, util::threadRandomSource()));
}

void RedisClient::onConnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (status != REDIS_OK) return;  // hiredis frees the context next; cleanup() takes it from there
  self->state_ = State::Connected;
  self->connect_timer_->disable();
  self->failures_ = 0;
  self->connects_->inc();
  self->connected_->inc();
}

void RedisClient::addRead(void* privdata) {
  auto* self = static_cast<RedisClient*>(privdata);
  self->want_read_ = true;
  if (self->readable_ || self->hangup_) self->pump_.schedule();
}

void RedisClient::delRead(void* privdata) { static_cast<RedisClient*>(privdata)->want_read_ = false; }

void RedisClient::addWrite(void* privdata) {
  auto* self = static_cast<RedisClient*>(privdata);
  self->want_write_ = true;
  if (self->in_write_) {
    // hiredis wrote what the socket took and still has more: the socket is
    // full, so wait for the EPOLLOUT edge instead of spinning.
    self->write_blocked_ = true;
  } else if (self->state_ == State::Connected && !self->write_blocked_) {
    // A new command. The socket is most likely writable already and an
    // edge-triggered fd will not say so again: flush at the end of this
    // phase, together with every other command issued meanwhile.
    self->pump_.schedule();
  }
}

void RedisClient::delWrite(void* privdata) { static_cast<RedisClient*>(privdata)->want_write_ = false; }

void RedisClient::cleanup(void* privdata) {
  auto* self = static_cast<RedisClient*>(privdata);
  self->loop_.removeFd(self->fd_);
  self->fd_ = -1;
  self->ac_ = nullptr;
  self->pump_.cancel();
  self->connect_timer_->disable();
  self->want_read_ = self->want_write_ = false;
  self->loaded_.clear();
  if (self->state_ == State::Connected) {
    self->connected_->dec();
  } else if (self->state_ == State::Connecting) {
    self->connect_failures_->inc();
  }
  if (self->destroying_) {
    self->state_ = State::Backoff;
    return;
  }
  self->scheduleReconnect();
}

void RedisClient::onIoEvent(uint32_t events) {
  if (ac_ == nullptr) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) hangup_ = true;
  if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
    write_blocked_ = false;
    // While connecting, hiredis checks SO_ERROR here, which is only
    // meaningful on a real writable/error event: this is the one place a
    // Connecting context is handed to hiredis.
    if (state_ == State::Connecting || want_write_) {
      in_write_ = true;
      redisAsyncHandleWrite(ac_);
      in_write_ = false;
      if (ac_ == nullptr) return;
    }
  }
  pump();
}

void RedisClient::pump() {
  if (ac_ == nullptr || state_ != State::Connected) return;
  if (want_write_ && !write_blocked_) {
    in_write_ = true;
    redisAsyncHandleWrite(ac_);
    in_write_ = false;
    if (ac_ == nullptr) return;
  }
  // hiredis reads once per call (16 KiB); edge-triggered, so read until the
  // socket is empty, or until the EOF/error that a hangup promises.
  for (int rounds = 0; want_read_ && (readable_ || hangup_); ++rounds) {
    if (rounds == 64) {  // a fast sender: let other work run, come back this turn
      pump_.schedule();
      return;
    }
    redisAsyncHandleRead(ac_);
    if (ac_ == nullptr) return;
    int queued = 0;
    if (::ioctl(fd_, FIONREAD, &queued) != 0 || queued <= 0) {
      readable_ = false;
      if (!hangup_) break;
    }
  }
}

bool RedisClient::scriptLoaded(const LuaScript& s) const {
  return std::find(loaded_.begin(), loaded_.end(), &s) != loaded_.end();
}

bool RedisClient::eval(RedisRequest& request, const LuaScript& script, std::span<const std::string_view> keys,
                       std::span<const std::string_view> args, event::Duration timeout) {
  assert(loop_.isLoopThread());
  assert(!request.pending());
  if (ac_ == nullptr || state_ == State::Backoff || keys.size() + args.size() > kMaxArgs) return false;
  const char* argv[3 + kMaxArgs];
  size_t lens[3 + kMaxArgs];
  const bool by_sha = scriptLoaded(script);
  argv[0] = by_sha ? "EVALSHA" : "EVAL";
  lens[0] = by_sha ? 7 : 4;
  const std::string_view body = by_sha ? script.sha() : std::string_view(script.text());
  argv[1] = body.data();
  lens[1] = body.size();
  char numkeys[8];
  const auto res = std::to_chars(numkeys, numkeys + sizeof(numkeys), keys.size());
  argv[2] = numkeys;
  lens[2] = static_cast<size_t>(res.ptr - numkeys);
  size_t n = 3;
  for (auto k : keys) {
    argv[n] = k.data();
    lens[n++] = k.size();
  }
  for (auto a : args) {
    argv[n] = a.data();
    lens[n++] = a.size();
  }
  const uint64_t id = next_id_;
  // The id, not a pointer, travels with the command: a reply for a call that
  // timed out or was cancelled finds nothing and is dropped.
  if (redisAsyncCommandArgv(ac_, &RedisClient::onEvalReply, reinterpret_cast<void*>(static_cast<uintptr_t>(id)),
                            static_cast<int>(n), argv, lens) != REDIS_OK)
    return false;
  ++next_id_;
  calls_.push_back({id, &request, loop_.now() + timeout, by_sha ? nullptr : &script});
  request.client_ = this;
  request.id_ = id;
  armDeadline(calls_.back().deadline);
  return true;
}

RedisClient::Call* RedisClient::findCall(uint64_t id) {
  auto it = std::lower_bound(calls_.begin(), calls_.end(), id, [](const Call& c, uint64_t v) { return c.id < v; });
  return it != calls_.end() && it->id == id ? &*it : nullptr;
}

void RedisClient::popFinished() {
  while (!calls_.empty() && calls_.front().request == nullptr) calls_.pop_front();
}

size_t RedisClient::pendingCount() const {
  return static_cast<size_t>(
      std::count_if(calls_.begin(), calls_.end(), [](const Call& c) { return c.request != nullptr; }));
}

void RedisClient::cancel(RedisRequest& request) {
  if (Call* c = findCall(request.id_); c != nullptr && c->request == &request) c->request = nullptr;
  request.client_ = nullptr;
  popFinished();
}

void RedisClient::finish(Call& call, const RedisResult& result) {
  RedisRequest* req = call.request;
  call.request = nullptr;
  req->client_ = nullptr;
  popFinished();  // `call` may be gone from here on
  req->onReply(result);
}

void RedisClient::armDeadline(event::MonoTime deadline) {
  if (!deadline_timer_->enabled() || deadline < deadline_timer_->deadline()) deadline_timer_->enableAt(deadline);
}

void RedisClient::onDeadline() {
  const event::MonoTime now = loop_.now();
  // One at a time, rescanning: a callback may cancel or start other calls.
  // With one timeout per client the expired calls are at the front, so each
  // scan stops early.
  for (;;) {
    Call* expired = nullptr;
    for (auto& c : calls_) {
      if (c.request != nullptr && c.deadline <= now) {
        expired = &c;
        break;
      }
    }
    if (expired == nullptr) break;
    RedisResult r;
    r.status = RedisResult::Status::Timeout;
    r.error = "timeout";
    finish(*expired, r);
  }
  event::MonoTime next = event::MonoTime::max();
  for (const auto& c : calls_)
    if (c.request != nullptr) next = std::min(next, c.deadline);
  if (next != event::MonoTime::max()) deadline_timer_->enableAt(next);
}

void RedisClient::onEvalReply(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (self->destroying_) return;
  const auto* r = static_cast<const redisReply*>(reply);
  Call* call = self->findCall(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(privdata)));
  const bool error_reply = r != nullptr && r->type == REDIS_REPLY_ERROR;
  if (error_reply && std::string_view(r->str, r->len).starts_with("NOSCRIPT")) {
    // The server lost the script (SCRIPT FLUSH, failover): send EVAL again.
    self->loaded_.clear();
  } else if (r != nullptr && call != nullptr && call->loads != nullptr && !self->scriptLoaded(*call->loads)) {
    // EVAL ran, so the server cached the script (even when it returned an error).
    self->loaded_.push_back(call->loads);
  }
  if (call == nullptr || call->request == nullptr) return;  // late: timed out or cancelled
  RedisResult res;
  if (r == nullptr) {
    res.status = RedisResult::Status::Disconnected;
    res.error = "disconnected";
  } else if (error_reply) {
    res.status = RedisResult::Status::Error;
    res.error = std::string_view(r->str, r->len);
  } else {
    res.reply = r;
  }
  self->finish(*call, res);
}

namespace {

bool sameAddress(const ip::Address& a, const ip::Address& b) {
  return a.sockLen() == b.sockLen() && std::memcmp(a.sockAddr(), b.sockAddr(), a.sockLen()) == 0;
}

struct ThreadClients {
  std::vector<std::unique_ptr<RedisClient>> clients;
  // A thread that exits without clearThreadClients() (its loop may be gone
  // already) leaks its clients rather than touching a dead loop.
  ~ThreadClients() {
    for (auto& c : clients) (void)c.release();
  }
};
thread_local ThreadClients t_clients;

}  // namespace

RedisClient& threadClient(event::Loop& loop, const ip::Address& address) {
  for (auto& c : t_clients.clients) {
    if (sameAddress(c->address(), address)) {
      assert(&c->loop() == &loop);
      return *c;
    }
  }
  t_clients.clients.push_back(std::make_unique<RedisClient>(loop, address));
  return *t_clients.clients.back();
}

void clearThreadClients() { t_clients.clients.clear(); }

}  // namespace sluice::redis
