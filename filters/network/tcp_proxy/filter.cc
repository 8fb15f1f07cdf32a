#include "filters/network/tcp_proxy/filter.h"

#include "proxy/event/loop.h"
#include "proxy/net/original_destination.h"
#include "proxy/stats/stats.h"

namespace sluice::filters::tcp_proxy {

TcpProxyFilter::TcpProxyFilter(const Spec& spec, net::FilterContext& ctx)
    : spec_(spec), ctx_(ctx) {}

TcpProxyFilter::~TcpProxyFilter() {
  downstream_closed_ = true;  // no retries from events raised while tearing down
  if (upstream_ && upstream_->open()) upstream_->close(net::CloseType::NoFlush);
  if (upstream_) releaseUpstream();
  if (picked_cluster_) picked_cluster_->abandon(pick_);  // ended before the connect did
}

void TcpProxyFilter::initialize(net::ReadFilterCallbacks& callbacks) {
  callbacks_ = &callbacks;
  downstream().addCallbacks(this);
}

net::FilterStatus TcpProxyFilter::onNewConnection() {
  // Hold downstream bytes in the kernel until an upstream accepts them: a
  // retry to another host then never has to replay anything.
  downstream().readDisable(true);
  downstream_paused_for_connect_ = true;
  connectNext();
  return net::FilterStatus::StopIteration;
}

bool TcpProxyFilter::shouldSkip(const upstream::Host& host) const {
  for (const auto& a : tried_)
    if (a == host.address) return true;
  return false;
}

namespace {

// An original_dst cluster's hosts are every destination its clients name:
// unbounded, so they get no per-host stats block; the cluster's count.
stats::HostStats& untrackedHostStats() {
  thread_local stats::HostStats block;
  return block;
}

}  // namespace

bool TcpProxyFilter::pickOriginalDestination() {
  // None: the client connected to the listener itself (not redirected), or
  // the listener does not capture; connecting would loop back here.
  const auto to = net::originalDstTarget(downstream());
  if (!to) {
    cluster_->stats().upstream_cx_original_dst_loop.inc();
    downstream().close(net::CloseType::NoFlush);
    return false;
  }
  host_ = upstream::Host{};
  host_.address = *to;
  host_.stats = &untrackedHostStats();
  return true;
}

void TcpProxyFilter::connectNext() {
  cluster_ = ctx_.clusters.get(spec_.cluster);
  if (cluster_ != nullptr && cluster_->config().type == config::ClusterType::OriginalDst) {
    if (!pickOriginalDestination()) return;
    auto& breaker = cluster_->shared().breakers(upstream::RoutingPriority::Normal).connections;
    if (!breaker.tryAcquire(cluster_->config().circuit_breakers.normal.max_connections)) {
      cluster_->stats().upstream_cx_overflow.inc();
      downstream().close(net::CloseType::NoFlush);
      return;
    }
    breaker_ = &breaker;
    startUpstream();
    return;
  }
  if (cluster_ == nullptr || cluster_->hosts().empty()) {
    if (cluster_) cluster_->stats().upstream_cx_none_healthy.inc();
    downstream().close(net::CloseType::NoFlush);
    return;
  }
  const auto pick = cluster_->pick(this);
  if (!pick) {
    cluster_->stats().upstream_cx_none_healthy.inc();
    downstream().close(net::CloseType::NoFlush);
    return;
  }
  // Connections count against the cluster's max_connections breaker.
  auto& breaker = cluster_->shared().breakers(upstream::RoutingPriority::Normal).connections;
  if (!breaker.tryAcquire(cluster_->config().circuit_breakers.normal.max_connections)) {
    cluster_->abandon(*pick);
    cluster_->stats().upstream_cx_overflow.inc();
    downstream().close(net::CloseType::NoFlush);
    return;
  }
  breaker_ = &breaker;
  pick_ = *pick;
  if (cluster_->wantsOutcome(pick_)) picked_cluster_ = cluster_->shared_from_this();
  host_ = cluster_->hosts()[pick->host];
  startUpstream();
}

void TcpProxyFilter::startUpstream() {
  tried_.push_back(host_.address);
  connected_ = false;
  connect_timed_out_ = false;

  auto& cs = cluster_->stats();
  cs.upstream_cx_total.inc();
  cs.upstream_cx_active.inc();
  host_.stats->cx_total.inc();
  host_.stats->cx_active.inc();

  upstream_ = net::Connection::connect(ctx_.loop, host_.address, cluster_->newTransport());
  upstream_->addCallbacks(&upstream_callbacks_);
  upstream_->setReadHandler(&upstream_callbacks_);
  upstream_->setBufferLimit(ctx_.listener.per_connection_buffer_limit_bytes);
  upstream_->setByteCounters(&cs.upstream_rx_bytes, &cs.upstream_tx_bytes);

  if (!connect_timer_) connect_timer_ = ctx_.loop.createTimer([this] { onConnectTimeout(); });
  connect_timer_->enable(cluster_->config().connect_timeout);
}

void TcpProxyFilter::onConnectTimeout() {
  if (!upstream_ || connected_) return;
  connect_timed_out_ = true;
  if (auto* c = ctx_.clusters.get(spec_.cluster)) c->stats().upstream_cx_connect_timeout.inc();
  upstream_->close(net::CloseType::NoFlush);  // raises Closed -> onUpstreamEvent
}

void TcpProxyFilter::reportOutcome(upstream::HostOutcome outcome) {
  if (picked_cluster_) picked_cluster_->reportOutcome(pick_, outcome);
  picked_cluster_.reset();
}

void TcpProxyFilter::onUpstreamEvent(net::ConnectionEvent event) {
  if (event == net::ConnectionEvent::Connected) {
    reportOutcome(upstream::HostOutcome::Success);
    connected_ = true;
    connect_timer_->disable();
    last_activity_ = ctx_.loop.now();
    if (spec_.idle_timeout.count() > 0) {
      if (!idle_timer_) idle_timer_ = ctx_.loop.createTimer([this] { onIdleTimer(); });
      idle_timer_->enable(spec_.idle_timeout);
    }
    if (downstream_paused_for_connect_) {
      downstream_paused_for_connect_ = false;
      downstream().readDisable(false);
    }
    return;
  }

  // Closed.
  const bool was_connected = connected_;
  const auto reason = upstream_->closeReason();
  releaseUpstream();
  if (downstream_closed_) return;
  if (!was_connected) {
    onConnectFailure();
    return;
  }
  switch (reason) {
    case net::CloseReason::PeerReset:
    case net::CloseReason::IoError:
      downstream().close(net::CloseType::Reset);
      break;
    default:
      // Done: both directions finished; send the downstream what is left.
      downstream().close(net::CloseType::FlushWrite);
      break;
  }
}

void TcpProxyFilter::onConnectFailure() {
  reportOutcome(upstream::HostOutcome::GatewayFailure);
  host_.stats->cx_connect_fail.inc();
  auto* cluster = ctx_.clusters.get(spec_.cluster);
  if (cluster && !connect_timed_out_) cluster->stats().upstream_cx_connect_fail.inc();
  // An original destination is one address: trying it again would not help.
  const bool one_host = cluster && cluster->config().type == config::ClusterType::OriginalDst;
  if (tried_.size() < spec_.max_connect_attempts && !one_host) {
    connectNext();
    return;
  }
  if (cluster) cluster->stats().upstream_cx_connect_attempts_exceeded.inc();
  downstream().close(net::CloseType::NoFlush);
}

void TcpProxyFilter::releaseUpstream() {
  if (connect_timer_) connect_timer_->disable();
  if (!upstream_) return;
  if (auto* c = ctx_.clusters.get(spec_.cluster)) {
    c->stats().upstream_cx_active.dec();
  }
  host_.stats->cx_active.dec();
  if (breaker_) breaker_->release();
  breaker_ = nullptr;
  ctx_.loop.deferredDelete(std::move(upstream_));
}

net::FilterStatus TcpProxyFilter::onData(net::Buffer& data, bool end_stream) {
  last_activity_ = ctx_.loop.now();
  if (upstream_ && connected_) upstream_->write(data, end_stream);
  return net::FilterStatus::StopIteration;
}

void TcpProxyFilter::onUpstreamData(net::Buffer& data, bool end_stream) {
  last_activity_ = ctx_.loop.now();
  downstream().write(data, end_stream);
}

void TcpProxyFilter::onEvent(net::ConnectionEvent event) {
  if (event != net::ConnectionEvent::Closed) return;
  downstream_closed_ = true;
  if (idle_timer_) idle_timer_->disable();
  if (!upstream_) return;
  net::CloseType type = net::CloseType::NoFlush;
  switch (downstream().closeReason()) {
    case net::CloseReason::PeerReset:
    case net::CloseReason::IoError:
      type = net::CloseType::Reset;
      break;
    case net::CloseReason::Done:
      // The downstream finished cleanly; what it sent may still be queued
      // for the upstream, which outlives this filter until it is flushed.
      type = net::CloseType::FlushWrite;
      break;
    default:
      break;
  }
  std::unique_ptr<net::Connection> up = std::move(upstream_);
  upstream_ = nullptr;
  if (auto* c = ctx_.clusters.get(spec_.cluster)) c->stats().upstream_cx_active.dec();
  host_.stats->cx_active.dec();
  // The slot goes with the connection: left held, every connection its
  // client closed first would shrink max_connections for good.
  if (breaker_) breaker_->release();
  breaker_ = nullptr;
  if (connect_timer_) connect_timer_->disable();
  net::Connection::closeDetached(std::move(up), type);
}

void TcpProxyFilter::onAboveWriteBufferHighWatermark() {
  if (upstream_) upstream_->readDisable(true);
}

void TcpProxyFilter::onBelowWriteBufferLowWatermark() {
  if (upstream_) upstream_->readDisable(false);
}

void TcpProxyFilter::onIdleTimer() {
  // Activity only stamps last_activity_; the timer re-arms lazily here, so
  // busy connections cost no timer work per read.
  const auto idle_for = ctx_.loop.now() - last_activity_;
  if (idle_for < spec_.idle_timeout) {
    idle_timer_->enable(std::chrono::duration_cast<event::Duration>(spec_.idle_timeout - idle_for) +
                        event::Duration(1));
    return;
  }
  ctx_.listener_stats.downstream_cx_idle_timeout.inc();
  downstream().close(net::CloseType::NoFlush);
}

}  // namespace sluice::filters::tcp_proxy
