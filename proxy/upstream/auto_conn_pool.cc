#include "proxy/upstream/auto_conn_pool.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "proxy/upstream/pool_limits.h"

namespace sluice::upstream {

class AutoConnPool::Pending final : public PendingStream, public PoolCallbacks {
 public:
  Pending(AutoConnPool& p, http::MessageDecoder& r, StreamCallbacks& s, PoolCallbacks& c, BreakerGroup* g)
      : pool(p), response(r), stream_callbacks(s), callbacks(c), group(g) {}

  void cancel() override { pool.cancel(*this); }
  // From the inner pool the request went to: pass it on, and go.
  void onPoolReady(UpstreamStream& stream) override {
    PoolCallbacks& cb = callbacks;
    pool.erase(*this);
    cb.onPoolReady(stream);
  }
  void onPoolFailure(StreamResetReason reason, std::string_view detail) override {
    PoolCallbacks& cb = callbacks;
    pool.erase(*this);
    cb.onPoolFailure(reason, detail);
  }

  AutoConnPool& pool;
  http::MessageDecoder& response;
  StreamCallbacks& stream_callbacks;
  PoolCallbacks& callbacks;
  BreakerGroup* group;             // holds a pending slot while it waits here; null when none
  PendingStream* inner = nullptr;  // its handle in the inner pool, once handed over
  bool handed_over = false;
  decltype(AutoConnPool::pending_)::iterator self;
};

AutoConnPool::AutoConnPool(event::Loop& loop, Host host, PoolSettings settings, stats::ClusterStats* cluster_stats)
    : loop_(loop), host_(std::move(host)), settings_(std::move(settings)), cluster_stats_(cluster_stats) {
  http1_ = std::make_unique<Http1ConnPool>(loop_, host_, innerSettings(settings_), cluster_stats_);
  http2_ = std::make_unique<Http2ConnPool>(loop_, host_, innerSettings(settings_), cluster_stats_);
  discovery_timer_ = loop_.createTimer([this] {
    discovery_timed_out_ = true;
    if (discovery_) discovery_->close(net::CloseType::NoFlush);  // raises Closed: onDiscoveryFailed
  });
}

AutoConnPool::~AutoConnPool() {
  for (auto& p : pending_)
    if (p.group) p.group->pending.release();
  pending_.clear();
  endDiscovery();
}

PoolSettings AutoConnPool::innerSettings(PoolSettings settings) {
  // Each connection the inner pools make reports what the host picked: the
  // answer stays current, and a pool never speaks the other protocol.
  settings.protocol_switch = this;
  return settings;
}

bool AutoConnPool::negotiated(Protocol pool, std::string_view alpn) {
  known_ = alpn == "h2" ? Protocol::Http2 : Protocol::Http1;
  return *known_ == pool;
}

void AutoConnPool::mismatched(Protocol pool, std::unique_ptr<net::Connection> conn,
                              net::ConnectionCallbacks* previous_owner, ClusterShared* breaker_slot) {
  const Protocol other = pool == Protocol::Http2 ? Protocol::Http1 : Protocol::Http2;
  // The connection first, so that the moved requests find it; then the
  // requests, oldest first behind those already waiting there.
  withPool(other, [&](auto& to) { to.adopt(std::move(conn), previous_owner, breaker_slot); });
  WaitQueue& from = withPool(pool, [](auto& p) -> WaitQueue& { return p.waiting(); });
  withPool(other, [&](auto& to) { to.takeWaiting(from); });
}

void AutoConnPool::update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats) {
  const bool tls_changed = settings.tls != settings_.tls;
  if (tls_changed) known_.reset();
  host_ = host;
  settings_ = settings;
  cluster_stats_ = cluster_stats;
  http1_->update(host, innerSettings(settings), cluster_stats);
  http2_->update(host, innerSettings(settings), cluster_stats);
  if (!tls_changed || !discovery_) return;
  // The connection learning the answer was made under the old TLS: neither
  // it nor its answer may serve the new setup. Learn again with the new
  // one; the waiting requests keep waiting (the cluster's timeouts still
  // bound them).
  endDiscovery();
  discover();
  if (!discovery_) failWaiting(StreamResetReason::Overflow);  // the connection breaker is full
}

PendingStream* AutoConnPool::newStream(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                                       PoolCallbacks& callbacks, RoutingPriority priority) {
  if (known_)
    return withPool(*known_,
                    [&](auto& pool) { return pool.newStream(response, stream_callbacks, callbacks, priority); });
  const auto group = admitWaiting(settings_, cluster_stats_, pending_.size(), priority);
  if (!group) {
    failOverflow(callbacks);
    return nullptr;
  }
  Pending& p = pending_.emplace_back(*this, response, stream_callbacks, callbacks, *group);
  p.self = std::prev(pending_.end());
  if (!discovery_) discover();
  if (!discovery_) {
    // The connection breaker is full: nothing to wait for.
    pending_.pop_back();
    if (*group) (*group)->pending.release();
    failOverflow(callbacks);
    return nullptr;
  }
  return &p;
}

void AutoConnPool::discover() {
  if (!takeConnectionSlot(settings_, cluster_stats_)) return;
  discovery_breaker_slot_ = settings_.shared;
  discovery_timed_out_ = false;
  discovery_ = net::Connection::connect(loop_, host_.address, settings_.newTransport());
  discovery_->addCallbacks(this);
  discovery_timer_->enable(settings_.connect_timeout);
}

void AutoConnPool::onEvent(net::ConnectionEvent event) {
  if (event == net::ConnectionEvent::Connected) {
    onDiscovered(discovery_->transport().protocol() == "h2" ? Protocol::Http2 : Protocol::Http1);
    return;
  }
  if (event == net::ConnectionEvent::Closed)
    onDiscoveryFailed(discovery_timed_out_ ? StreamResetReason::ConnectTimeout : StreamResetReason::ConnectFailure);
}

void AutoConnPool::onDiscovered(Protocol p) {
  discovery_timer_->disable();
  known_ = p;
  // Handed over inside its own Connected callback: the new owner takes
  // this pool's place among the connection's callbacks and hears the rest.
  ClusterShared* slot = std::exchange(discovery_breaker_slot_, nullptr);
  countConnectionOpened(cluster_stats_, host_);
  withPool(p, [&](auto& pool) { pool.adopt(std::move(discovery_), this, slot); });
  // Hand each waiting request over, oldest first. A callback may end any of
  // them (served at once, cancelled): look for the next one afresh.
  for (;;) {
    auto it = std::find_if(pending_.begin(), pending_.end(), [](const Pending& q) { return !q.handed_over; });
    if (it == pending_.end()) break;
    Pending& q = *it;
    q.handed_over = true;
    // Its pending slot goes with it: the inner pool holds it from here.
    BreakerGroup* held = std::exchange(q.group, nullptr);
    // Null: `q` already heard onPoolReady / onPoolFailure and is gone.
    if (PendingStream* inner =
            withPool(p, [&](auto& pool) { return pool.newStreamHolding(q.response, q.stream_callbacks, q, held); }))
      q.inner = inner;
  }
}

void AutoConnPool::onDiscoveryFailed(StreamResetReason why) {
  countConnectFailure(cluster_stats_, host_, why);
  // Inside the connection's callback: it is freed at the end of the turn,
  // and callers hear the failure after their state is gone.
  endDiscovery();
  failWaiting(why);
}

void AutoConnPool::failWaiting(StreamResetReason why) {
  std::vector<PoolCallbacks*> waiting;
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& q = *it++;
    if (q.handed_over) continue;  // waits in an inner pool (from an earlier answer)
    if (q.group) q.group->pending.release();
    waiting.push_back(&q.callbacks);
    erase(q);
  }
  for (PoolCallbacks* cb : waiting) cb->onPoolFailure(why, resetReasonName(why));
}

void AutoConnPool::endDiscovery() {
  discovery_timer_->disable();
  releaseConnectionSlot(discovery_breaker_slot_);
  if (discovery_) net::Connection::closeDetached(std::move(discovery_), net::CloseType::NoFlush);
}

void AutoConnPool::cancel(Pending& p) {
  if (p.inner) p.inner->cancel();
  if (p.group) p.group->pending.release();
  erase(p);
}

void AutoConnPool::erase(Pending& p) { pending_.erase(p.self); }

}  // namespace sluice::upstream
