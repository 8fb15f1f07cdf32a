#include "filters/http/router/router.h"

#include "config/yaml_reader.h"
#include "proxy/event/loop.h"
#include "proxy/upstream/hash_policy.h"
#include "proxy/util/random.h"

namespace sluice::filters::router {

using sluice::http::FilterDataStatus;
using sluice::http::FilterHeadersStatus;
using sluice::http::FilterTrailersStatus;
using sluice::http::HeaderMap;
using sluice::http::ResponseFlag;

namespace {

// The request's hash key for ring_hash / maglev clusters.
struct HashKeyContext final : upstream::LbContext {
  std::optional<uint64_t> hashKey() const override { return key; }
  std::optional<uint64_t> key;
};

// Request body bytes held while the upstream connection is being made;
// beyond this the downstream is paused until the connection is ready.
constexpr size_t kPendingBodyLimit = 256 * 1024;

}  // namespace

RouterFilter::~RouterFilter() { onDestroy(); }

FilterHeadersStatus RouterFilter::decodeHeaders(HeaderMap& headers, bool end_stream) {
  request_headers_ = &headers;
  request_end_ = end_stream;
  start_ = callbacks_->loop().now();
  route_ = callbacks_->route();
  if (route_ == nullptr) {
    callbacks_->sendLocalReply(404, "no route\n", ResponseFlag::NoRoute, "route_not_found");
    return FilterHeadersStatus::StopIteration;
  }
  if (route_->direct_response) {
    sendDirectResponse(*route_->direct_response);
    return FilterHeadersStatus::StopIteration;
  }
  if (route_->redirect) {
    sendRedirect(*route_->redirect, headers);
    return FilterHeadersStatus::StopIteration;
  }
  const auto& action = *route_->route;
  cluster_name_ = action.pickCluster(util::threadRandom());
  callbacks_->streamInfo().upstream_cluster = cluster_name_;
  cluster_ = callbacks_->clusters().get(cluster_name_);
  if (cluster_ == nullptr) {
    callbacks_->sendLocalReply(503, "no cluster\n", ResponseFlag::NoClusterFound, "cluster_not_found");
    return FilterHeadersStatus::StopIteration;
  }
  cluster_stats_ = &cluster_->stats();
  const auto& cc = cluster_->config();
  const auto priority = action.high_priority ? upstream::RoutingPriority::High : upstream::RoutingPriority::Normal;
  auto& breakers = cluster_->shared().breakers(priority);
  const auto& limits = action.high_priority ? cc.circuit_breakers.high : cc.circuit_breakers.normal;
  if (!breakers.requests.tryAcquire(limits.max_requests)) {
    cluster_stats_->upstream_rq_overflow.inc();
    upstream_done_ = true;
    callbacks_->sendLocalReply(503, "upstream overflow\n", ResponseFlag::UpstreamOverflow, "upstream_rq_overflow");
    return FilterHeadersStatus::StopIteration;
  }
  request_slot_ = &breakers.requests;
  HashKeyContext lb_ctx;
  if (!cc.hash_policy.empty())
    lb_ctx.key = upstream::hashRequest(cc.hash_policy, headers, &callbacks_->downstreamConnection().peerAddress());
  const auto pick = cluster_->pick(&lb_ctx);
  if (!pick) {
    request_slot_->release();
    request_slot_ = nullptr;
    upstream_done_ = true;
    cluster_stats_->upstream_cx_none_healthy.inc();
    callbacks_->sendLocalReply(503, "no healthy upstream\n", ResponseFlag::NoHealthyUpstream, "no_healthy_upstream");
    return FilterHeadersStatus::StopIteration;
  }
  pick_ = *pick;
  if (cluster_->wantsOutcome(pick_)) picked_cluster_ = cluster_->shared_from_this();
  const upstream::Host& host = cluster_->hosts()[pick->host];
  host_stats_ = host.stats;
  host_stats_->rq_total.inc();
  host_stats_->rq_active.inc();
  callbacks_->streamInfo().upstream_host = host.name;

  // Rewrites and header mutations, most general first so a route's own settings win.
  if (action.prefix_rewrite && route_->match.path_kind == sluice::http::RouteMatch::PathKind::Prefix) {
    const std::string_view path = headers.path();
    std::string rewritten = *action.prefix_rewrite;
    rewritten.append(path.substr(std::min(path.size(), route_->match.path.size())));
    headers.set(sluice::http::headers::kPath, rewritten);
  }
  if (action.host_rewrite) headers.set(sluice::http::headers::kAuthority, *action.host_rewrite);
  applyRequestMutations(headers);

  if (action.timeout.count() > 0) {
    timeout_timer_.emplace(callbacks_->loop().timers(), [this] { onTimeout(); });
    timeout_timer_->enable(action.timeout);
  }
  cluster_stats_->upstream_rq_total.inc();
  cluster_stats_->upstream_rq_active.inc();
  callbacks_->addDownstreamWatermarkCallbacks(*this);
  watermarks_registered_ = true;
  pool_ = &callbacks_->clusters().httpPool(*cluster_, pick->host);
  pool_handle_ = pool_->newStream(*this, priority);  // may call onPoolReady/onPoolFailure right here
  cluster_ = nullptr;
  return FilterHeadersStatus::StopIteration;
}

FilterDataStatus RouterFilter::decodeData(net::Buffer& data, bool end_stream) {
  request_end_ = end_stream;
  if (encoder_) {
    encoder_->encodeData(data, end_stream);
  } else {
    pending_body_.move(data);
    pending_end_stream_ = end_stream;
    if (pending_body_.length() > kPendingBodyLimit && !downstream_paused_) {
      downstream_paused_ = true;
      callbacks_->readDisableDownstream(true);
    }
  }
  return FilterDataStatus::StopIterationNoBuffer;
}

FilterTrailersStatus RouterFilter::decodeTrailers(HeaderMap& trailers) {
  request_end_ = true;
  if (encoder_) {
    encoder_->encodeTrailers(trailers);
  } else {
    pending_trailers_ = &trailers;
  }
  return FilterTrailersStatus::StopIteration;
}

void RouterFilter::onPoolReady(upstream::PooledConnection& conn) {
  pool_handle_ = nullptr;
  conn_ = &conn;
  encoder_ = &conn.startRequest(response_, *this);
  const bool headers_only = request_end_ && pending_body_.empty() && !pending_trailers_;
  encoder_->encodeHeaders(*request_headers_, headers_only);
  if (!encoder_) return;  // failed while writing
  if (!pending_body_.empty() || (pending_end_stream_ && !headers_only)) {
    encoder_->encodeData(pending_body_, pending_end_stream_ && !pending_trailers_);
  }
  if (encoder_ && pending_trailers_) {
    encoder_->encodeTrailers(*pending_trailers_);
    pending_trailers_ = nullptr;
  }
  if (downstream_paused_) {
    downstream_paused_ = false;
    callbacks_->readDisableDownstream(false);
  }
}

void RouterFilter::onPoolFailure(upstream::PoolFailure reason) {
  pool_handle_ = nullptr;
  if (reason != upstream::PoolFailure::Overflow) reportOutcome(upstream::HostOutcome::GatewayFailure);
  if (reason == upstream::PoolFailure::Overflow) {
    fail(503, ResponseFlag::UpstreamOverflow, upstream::poolFailureName(reason));
  } else {
    fail(503, ResponseFlag::UpstreamConnectionFailure, upstream::poolFailureName(reason));
  }
}

void RouterFilter::onUpstreamReset(bool protocol_error, std::string_view detail) {
  encoder_ = nullptr;
  conn_ = nullptr;  // the pool closes it
  if (cluster_stats_) (protocol_error ? cluster_stats_->upstream_rq_protocol_error : cluster_stats_->upstream_rq_reset).inc();
  reportOutcome(upstream::HostOutcome::GatewayFailure);
  fail(502, protocol_error ? ResponseFlag::UpstreamProtocolError : ResponseFlag::UpstreamConnectionTermination, detail);
}

void RouterFilter::reportOutcome(upstream::HostOutcome outcome) {
  if (outcome_reported_) return;
  outcome_reported_ = true;
  if (outcome != upstream::HostOutcome::Success && host_stats_) host_stats_->rq_error.inc();
  if (!picked_cluster_) return;
  picked_cluster_->reportOutcome(pick_, outcome);
  picked_cluster_.reset();
}

void RouterFilter::fail(int status, ResponseFlag flag, std::string_view details) {
  finishUpstream(false);
  if (response_started_) {
    callbacks_->streamInfo().setFlag(flag);
    callbacks_->streamInfo().details = std::string(details);
    callbacks_->resetStream();
    return;
  }
  callbacks_->sendLocalReply(status, std::string(details) + "\n", flag, details);
}

void RouterFilter::onTimeout() {
  if (cluster_stats_) cluster_stats_->upstream_rq_timeout.inc();
  reportOutcome(upstream::HostOutcome::GatewayFailure);
  if (conn_) {
    conn_->abort();
    conn_ = nullptr;
    encoder_ = nullptr;
  }
  fail(504, ResponseFlag::UpstreamRequestTimeout, "upstream_request_timeout");
}

void RouterFilter::onResponseHeaders(HeaderMap& headers, bool end_stream) {
  response_started_ = true;
  const int status = headers.status();
  reportOutcome(status == 502 || status == 503 || status == 504 ? upstream::HostOutcome::GatewayFailure
                : status >= 500                                  ? upstream::HostOutcome::Error5xx
                                                                 : upstream::HostOutcome::Success);
  if (auto* cs = cluster_stats_)
    stats::countStatusClass(headers.status(), cs->upstream_rq_1xx, cs->upstream_rq_2xx, cs->upstream_rq_3xx,
                            cs->upstream_rq_4xx, cs->upstream_rq_5xx);
  applyResponseMutations(headers);
  // Forward before releasing the connection: `headers` (like the data and
  // trailers below) lives in the upstream codec, which the next request on
  // that connection reuses.
  if (end_stream) response_complete_ = true;
  callbacks_->encodeHeaders(headers, end_stream);
  if (end_stream) finishUpstream(true);
}

void RouterFilter::onResponseData(net::Buffer& data, bool end_stream) {
  if (end_stream) response_complete_ = true;
  callbacks_->encodeData(data, end_stream);
  if (end_stream) finishUpstream(true);
}

void RouterFilter::onResponseTrailers(HeaderMap& trailers) {
  response_complete_ = true;
  callbacks_->encodeTrailers(trailers);
  finishUpstream(true);
}

void RouterFilter::finishUpstream(bool success) {
  if (upstream_done_) return;
  upstream_done_ = true;
  if (timeout_timer_) timeout_timer_->disable();
  if (pool_handle_) {
    pool_->cancel(pool_handle_);
    pool_handle_ = nullptr;
  }
  if (picked_cluster_) {
    picked_cluster_->abandon(pick_);  // no outcome: the client went away first
    picked_cluster_.reset();
  }
  if (request_slot_) {
    request_slot_->release();
    request_slot_ = nullptr;
  }
  if (host_stats_) {
    host_stats_->rq_active.dec();
    host_stats_ = nullptr;
  }
  if (cluster_stats_) {
    cluster_stats_->upstream_rq_active.dec();
    if (success) {
      const auto elapsed = callbacks_->loop().now() - start_;
      cluster_stats_->upstream_rq_time.record(std::chrono::duration<double, std::milli>(elapsed).count());
    }
  }
  if (conn_) {
    if (upstream_paused_) conn_->readDisable(false);
    upstream_paused_ = false;
    // A response that ended before the request finished leaves the connection mid-request.
    if (success && request_end_) {
      conn_->release();
    } else {
      conn_->abort();
    }
    conn_ = nullptr;
    encoder_ = nullptr;
  }
  if (watermarks_registered_) {
    callbacks_->removeDownstreamWatermarkCallbacks(*this);
    watermarks_registered_ = false;
  }
  if (downstream_paused_) {
    downstream_paused_ = false;
    callbacks_->readDisableDownstream(false);
  }
}

void RouterFilter::onDestroy() {
  // The stream may end while the last response bytes are being forwarded
  // (then the connection goes back to the pool), or early: client gone, reset.
  if (!upstream_done_ && (conn_ || pool_handle_ || cluster_stats_)) finishUpstream(response_complete_);
  timeout_timer_.reset();
}

void RouterFilter::onAboveWriteBufferHighWatermark() {
  if (conn_ && !upstream_paused_) {
    upstream_paused_ = true;
    conn_->readDisable(true);
  }
}

void RouterFilter::onBelowWriteBufferLowWatermark() {
  if (conn_ && upstream_paused_) {
    upstream_paused_ = false;
    conn_->readDisable(false);
  }
}

void RouterFilter::onUpstreamAboveWriteBufferHighWatermark() {
  if (!downstream_paused_) {
    downstream_paused_ = true;
    callbacks_->readDisableDownstream(true);
  }
}

void RouterFilter::onUpstreamBelowWriteBufferLowWatermark() {
  if (downstream_paused_) {
    downstream_paused_ = false;
    callbacks_->readDisableDownstream(false);
  }
}

void RouterFilter::applyRequestMutations(HeaderMap& h) {
  // The most specific level is applied last, so a route's own settings win.
  if (const auto* rc = callbacks_->routeConfig()) rc->headers.applyToRequest(h);
  if (const auto* vh = callbacks_->virtualHost()) vh->headers.applyToRequest(h);
  route_->headers.applyToRequest(h);
}

void RouterFilter::applyResponseMutations(HeaderMap& h) {
  if (const auto* rc = callbacks_->routeConfig()) rc->headers.applyToResponse(h);
  if (const auto* vh = callbacks_->virtualHost()) vh->headers.applyToResponse(h);
  route_->headers.applyToResponse(h);
}

void RouterFilter::sendDirectResponse(const sluice::http::DirectResponseAction& action) {
  callbacks_->streamInfo().setFlag(ResponseFlag::LocalReply);
  callbacks_->streamInfo().details = "direct_response";
  auto& h = local_headers_;
  h.clear();
  h.setStatus(action.status);
  if (!action.body.empty()) h.add("content-type", action.content_type);
  h.add("content-length", std::to_string(action.body.size()));
  applyResponseMutations(h);
  upstream_done_ = true;
  callbacks_->encodeHeaders(h, action.body.empty());
  if (!action.body.empty()) {
    net::Buffer b;
    b.add(action.body);
    callbacks_->encodeData(b, true);
  }
}

void RouterFilter::sendRedirect(const sluice::http::RedirectAction& action, const HeaderMap& request) {
  std::string_view path = request.path();
  const std::string_view query = sluice::http::queryOf(path);
  const std::string_view bare = sluice::http::pathWithoutQuery(path);
  std::string new_path;
  if (action.path_redirect) {
    new_path = *action.path_redirect;
  } else if (action.prefix_rewrite && route_->match.path_kind == sluice::http::RouteMatch::PathKind::Prefix) {
    new_path = *action.prefix_rewrite;
    new_path.append(bare.substr(std::min(bare.size(), route_->match.path.size())));
  } else {
    new_path = std::string(bare);
  }
  if (!action.strip_query && !query.empty()) {
    new_path += '?';
    new_path += query;
  }
  const std::string scheme = action.scheme_redirect.value_or("http");
  std::string host = action.host_redirect ? *action.host_redirect : std::string(request.authority());
  const std::string location = scheme + "://" + host + new_path;

  callbacks_->streamInfo().setFlag(ResponseFlag::LocalReply);
  callbacks_->streamInfo().details = "redirect";
  auto& h = local_headers_;
  h.clear();
  h.setStatus(action.response_code);
  h.add("location", location);
  h.add("content-length", "0");
  applyResponseMutations(h);
  upstream_done_ = true;
  callbacks_->encodeHeaders(h, true);
}

}  // namespace sluice::filters::router
