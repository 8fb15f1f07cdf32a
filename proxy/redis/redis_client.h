#pragma once
// RedisClient: one asynchronous Redis connection living on one event loop,
// for Lua scripts called from the data path (the global rate limiter).
//
// Thread: everything here runs on the owning loop's thread; nothing is
// shared between workers. Each worker gets its own client per Redis address
// through threadClient() below.
//
// Connection: hiredis's async API driven by our loop (the fd is registered
// once, edge-triggered). Connecting starts at construction. When a connect
// fails, times out (kConnectTimeout) or an established connection drops,
// the client waits a fully jittered exponential backoff (util/backoff.h:
// 100 ms base, 5 s cap) and connects again, forever; a successful connect
// resets the backoff.
// Calls made while connecting are queued and sent once connected; calls made
// while waiting to reconnect fail at once (eval() returns false).
//
// Calls: eval() sends EVALSHA when this connection has already run the
// script, else EVAL (which also loads it). A NOSCRIPT answer (the script
// cache was flushed) fails that one call and makes the next calls send EVAL
// again. Every call has its own timeout; a reply that comes after it is
// dropped. Replies arrive in order, so one deadline timer serves all calls.
//
// hiredis writes with write(2), not send(MSG_NOSIGNAL): the process must
// ignore SIGPIPE (server::Server does) or a write to a dead server kills it.

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/event/loop.h"
#include "ip/address.h"

struct redisAsyncContext;
struct redisReply;

namespace sluice::stats {
class NamedCounter;
}

namespace sluice::redis {

class RedisClient;

// A Lua script and its SHA1 (hex), computed once. Keep it alive as long as
// any client may run it (in practice: a static).
class LuaScript {
 public:
  explicit LuaScript(std::string text);
  const std::string& text() const { return text_; }
  std::string_view sha() const { return {sha_, 40}; }

 private:
  std::string text_;
  char sha_[41];
};

struct RedisResult {
  enum class Status {
    Ok,            // `reply` is the script's answer (never an error reply)
    Error,         // Redis answered with an error; `error` says which
    Timeout,       // no answer within the call's timeout
    Disconnected,  // the connection failed or closed before the answer
  };
  Status status = Status::Ok;
  const redisReply* reply = nullptr;  // valid during the callback only
  std::string_view error;             // valid during the callback only
  bool ok() const { return status == Status::Ok; }
};

// One call, owned by its caller (typically a member of a stream filter).
// While pending(), the client holds a pointer to it: destroying it, or
// cancel(), withdraws it and onReply() will not run. After onReply() it is
// idle and may be used for another call.
class RedisRequest {
 public:
  RedisRequest() = default;
  RedisRequest(const RedisRequest&) = delete;
  RedisRequest& operator=(const RedisRequest&) = delete;
  virtual ~RedisRequest() { cancel(); }

  void cancel();
  bool pending() const { return client_ != nullptr; }

 protected:
  // Runs once per call on the loop thread, from the client's I/O or timer
  // callback (never from inside eval()). May start new calls or cancel
  // others; must not destroy the client.
  virtual void onReply(const RedisResult& result) = 0;

 private:
  friend class RedisClient;
  RedisClient* client_ = nullptr;
  uint64_t id_ = 0;
};

class RedisClient final : public event::IoHandler {
 public:
  static constexpr event::Duration kConnectTimeout{1000};
  static constexpr event::Duration kBackoffBase{100};
  static constexpr event::Duration kBackoffMax{5000};
  static constexpr size_t kMaxArgs = 16;  // keys + args of one eval

  // Starts connecting. Loop thread only.
  RedisClient(event::Loop& loop, const ip::Address& address);
  // Closes the connection. Pending requests are detached silently (their
  // onReply never runs); the client must not be destroyed from inside one
  // of its own callbacks.
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs `script` with KEYS = keys, ARGV = args (at most kMaxArgs in all).
  // True: the call is sent or queued and request.onReply() runs exactly once
  // later (reply, error, timeout or disconnect) unless it is cancelled first.
  // False: the client is waiting to reconnect or cannot take the call now;
  // nothing will be called back. `request` must not be pending.
  bool eval(RedisRequest& request, const LuaScript& script, std::span<const std::string_view> keys,
            std::span<const std::string_view> args, event::Duration timeout);

  bool connected() const { return state_ == State::Connected; }
  const ip::Address& address() const { return address_; }
  event::Loop& loop() const { return loop_; }
  // Pending calls (tests).
  size_t pendingCount() const;

  void onIoEvent(uint32_t events) override;

 private:
  enum class State { Connecting, Connected, Backoff };
  struct Call {
    uint64_t id;
    RedisRequest* request;  // null once answered, timed out or cancelled
    event::MonoTime deadline;
    const LuaScript* loads;  // sent as EVAL: its reply means the server has the script
  };
  // Flushes writes hiredis asked for and reads what arrived, at the end of
  // the loop phase (edge-triggered: an fd that is already writable gives no
  // new event when hiredis wants to write).
  class Pump final : public event::SoonTask {
   public:
    explicit Pump(RedisClient& c) : SoonTask(c.loop_), client_(c) {}

   private:
    void runSoon() override { client_.pump(); }
    RedisClient& client_;
  };

  friend class RedisRequest;
  void connect();
  void scheduleReconnect();
  void pump();
  void cancel(RedisRequest& request);
  Call* findCall(uint64_t id);
  void popFinished();
  void armDeadline(event::MonoTime deadline);
  void onDeadline();
  void finish(Call& call, const RedisResult& result);
  bool scriptLoaded(const LuaScript& s) const;

  // hiredis hooks (ac->ev.*, callbacks); `privdata` is the client.
  static void addRead(void* privdata);
  static void delRead(void* privdata);
  static void addWrite(void* privdata);
  static void delWrite(void* privdata);
  static void cleanup(void* privdata);
  static void onConnect(const redisAsyncContext* ac, int status);
  static void onEvalReply(redisAsyncContext* ac, void* reply, void* privdata);

  event::Loop& loop_;
  ip::Address address_;
  std::string host_;  // numeric IP for hiredis
  uint16_t port_ = 0;
  redisAsyncContext* ac_ = nullptr;
  int fd_ = -1;
  State state_ = State::Backoff;
  bool destroying_ = false;
  // Adapter state: what hiredis wants, and what the edge-triggered fd said.
  bool want_read_ = false;
  bool want_write_ = false;
  bool readable_ = false;
  bool hangup_ = false;
  bool write_blocked_ = false;  // the socket took less than hiredis had: wait for EPOLLOUT
  bool in_write_ = false;
  uint32_t failures_ = 0;  // consecutive failed connects, for the backoff
  Pump pump_{*this};
  std::unique_ptr<event::Timer> connect_timer_;
  std::unique_ptr<event::Timer> backoff_timer_;
  std::unique_ptr<event::Timer> deadline_timer_;
  std::deque<Call> calls_;  // in id order
  uint64_t next_id_ = 1;
  // Scripts known to be in this connection's server script cache.
  std::vector<const LuaScript*> loaded_;
  std::shared_ptr<stats::NamedCounter> connects_;     // successful connects
  std::shared_ptr<stats::NamedCounter> connect_failures_;
  std::shared_ptr<stats::NamedCounter> connected_;    // gauge: clients connected now
};

// The client for `address` on this thread, created on first use with
// `loop`; one per worker thread and address. Every use on one thread must
// pass the same loop. Loop thread only.
RedisClient& threadClient(event::Loop& loop, const ip::Address& address);
// Destroys this thread's clients. A worker calls it when its loop has
// stopped and its connections are closed (nothing may still hold a pending
// request), before the loop is destroyed; tests call it before their loop dies.
void clearThreadClients();

}  // namespace sluice::redis
