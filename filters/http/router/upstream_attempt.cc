#include "filters/http/router/upstream_attempt.h"

#include "filters/http/router/router.h"

namespace sluice::filters::router {

void UpstreamAttempt::start(upstream::Cluster& cluster, const upstream::Cluster::Pick& pick, const upstream::Host& host,
                            stats::ClusterStats& cluster_stats, upstream::HttpConnPool& pool,
                            upstream::RoutingPriority priority, upstream::Breaker* retry_slot,
                            event::TimerQueue& timers, std::chrono::milliseconds per_try_timeout) {
  pick_ = pick;
  outcome_reported_ = false;
  sent_ = false;
  if (cluster.wantsOutcome(pick)) picked_cluster_ = cluster.shared_from_this();
  host_stats_ = host.stats;
  host_stats_->rq_total.inc();
  host_stats_->rq_active.inc();
  cluster_stats_ = &cluster_stats;
  cluster_stats_->upstream_rq_total.inc();
  cluster_stats_->upstream_rq_active.inc();
  retry_slot_ = retry_slot;
  if (per_try_timeout.count() > 0) {
    if (!per_try_timer_) per_try_timer_.emplace(timers, [this] { router_.onPerTryTimeout(); });
    per_try_timer_->enable(per_try_timeout);
  }
  pool_handle_ = pool.newStream(*this, *this, *this, priority);  // may call onPoolReady/onPoolFailure right here
}

void UpstreamAttempt::end(bool reuse) {
  if (per_try_timer_) per_try_timer_->disable();
  discarding_ = false;
  if (pool_handle_) {
    pool_handle_->cancel();
    pool_handle_ = nullptr;
  }
  if (picked_cluster_) {
    picked_cluster_->abandon(pick_);  // no outcome: the client went away first
    picked_cluster_.reset();
  }
  releaseRetrySlot();
  if (host_stats_) {
    host_stats_->rq_active.dec();
    host_stats_ = nullptr;
    cluster_stats_->upstream_rq_active.dec();
  }
  if (stream_) {
    if (paused_) stream_->readDisable(false);
    if (reuse) {
      stream_->release();
    } else {
      stream_->reset();
    }
    stream_ = nullptr;
  }
  paused_ = false;
  encoder_ = nullptr;
}

void UpstreamAttempt::reportOutcome(upstream::HostOutcome outcome) {
  if (host_stats_ == nullptr || outcome_reported_) return;
  outcome_reported_ = true;
  if (outcome != upstream::HostOutcome::Success) host_stats_->rq_error.inc();
  if (!picked_cluster_) return;
  picked_cluster_->reportOutcome(pick_, outcome);
  picked_cluster_.reset();
}

void UpstreamAttempt::releaseRetrySlot() {
  if (retry_slot_) {
    retry_slot_->release();
    retry_slot_ = nullptr;
  }
}

void UpstreamAttempt::readDisable(bool disable) {
  if (stream_ == nullptr || paused_ == disable) return;
  paused_ = disable;
  stream_->readDisable(disable);
}

void UpstreamAttempt::onPoolReady(upstream::UpstreamStream& stream) {
  pool_handle_ = nullptr;
  stream_ = &stream;
  encoder_ = &stream.encoder();
  sent_ = true;
  router_.onUpstreamReady();
}

void UpstreamAttempt::onPoolFailure(upstream::StreamResetReason reason, std::string_view detail) {
  pool_handle_ = nullptr;
  router_.onUpstreamFailure(reason, detail);
}

void UpstreamAttempt::onStreamReset(upstream::StreamResetReason reason, std::string_view detail) {
  encoder_ = nullptr;
  stream_ = nullptr;  // gone: the pool closes its connection
  router_.onUpstreamFailure(reason, detail);
}

void UpstreamAttempt::onAboveWriteBufferHighWatermark() { router_.onUpstreamAboveWriteBufferHighWatermark(); }
void UpstreamAttempt::onBelowWriteBufferLowWatermark() { router_.onUpstreamBelowWriteBufferLowWatermark(); }

void UpstreamAttempt::decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) {
  router_.onResponseHeaders(headers, end_stream);
}
void UpstreamAttempt::decodeData(net::Buffer& data, bool end_stream) { router_.onResponseData(data, end_stream); }
void UpstreamAttempt::decodeTrailers(sluice::http::HeaderMap& trailers) { router_.onResponseTrailers(trailers); }

}  // namespace sluice::filters::router
