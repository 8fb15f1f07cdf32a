#include "filters/http/router/router.h"

#include <cstdio>
#include <utility>

#include "config/yaml_reader.h"
#include "proxy/http/grpc.h"
#include "proxy/event/loop.h"
#include "proxy/net/connection.h"
#include "proxy/net/original_destination.h"
#include "proxy/upstream/hash_policy.h"
#include "proxy/util/random.h"

namespace sluice::filters::router {

using sluice::http::FilterDataStatus;
using sluice::http::FilterHeadersStatus;
using sluice::http::FilterTrailersStatus;
using sluice::http::HeaderMap;
using sluice::http::ResponseFlag;

namespace {

// Request body bytes held while the upstream connection is being made;
// beyond this the downstream is paused until the connection is ready.
constexpr size_t kPendingBodyLimit = 256 * 1024;

constexpr std::string_view kAttemptHeader = "x-sluice-attempt";
// Envoy's header naming an original_dst cluster's host ("10.1.2.3:80"),
// read only where the cluster sets use_http_header.
constexpr std::string_view kOriginalDstHostHeader = "x-envoy-original-dst-host";

upstream::HostOutcome outcomeOf(int status) {
  if (status == 502 || status == 503 || status == 504) return upstream::HostOutcome::GatewayFailure;
  return status >= 500 ? upstream::HostOutcome::Error5xx : upstream::HostOutcome::Success;
}

}  // namespace

bool RouterFilter::LbContext::shouldSkip(const upstream::Host& h) const {
  for (const auto* t : tried)
    if (t == h.shared) return true;
  return false;
}

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
  upstream::Cluster* cluster = callbacks_->clusters().get(cluster_name_);
  if (cluster == nullptr) {
    fail(503, ResponseFlag::NoClusterFound, "cluster_not_found");
    return FilterHeadersStatus::StopIteration;
  }
  cluster_stats_ = &cluster->stats();
  const auto& cc = cluster->config();
  priority_ = action.high_priority ? upstream::RoutingPriority::High : upstream::RoutingPriority::Normal;
  auto& breakers = cluster->shared().breakers(priority_);
  const auto& limits = action.high_priority ? cc.circuit_breakers.high : cc.circuit_breakers.normal;
  if (!breakers.requests.tryAcquire(limits.max_requests)) {
    cluster_stats_->upstream_rq_overflow.inc();
    fail(503, ResponseFlag::UpstreamOverflow, "upstream_rq_overflow");
    return FilterHeadersStatus::StopIteration;
  }
  request_slot_ = &breakers.requests;
  // The route's hash policy, else the cluster's (as Envoy's route-level one).
  const auto& hash_policy = action.hash_policy.empty() ? cc.hash_policy : action.hash_policy;
  if (!hash_policy.empty())
    lb_ctx_.key = upstream::hashRequest(hash_policy, headers, &callbacks_->downstreamConnection().peerAddress());

  const sluice::http::RetryPolicy* policy = action.retry_policy ? &*action.retry_policy : nullptr;
  if (policy == nullptr)
    if (const auto* vh = callbacks_->virtualHost(); vh && vh->retry_policy) policy = &*vh->retry_policy;
  if (policy && policy->num_retries > 0) retry_.emplace(*policy, headers.method());

  // Rewrites and header mutations, most general first so a route's own settings win.
  if (action.prefix_rewrite && route_->match.path_kind == sluice::http::RouteMatch::PathKind::Prefix) {
    const std::string_view path = headers.path();
    std::string rewritten = *action.prefix_rewrite;
    rewritten.append(path.substr(std::min(path.size(), route_->match.path.size())));
    headers.set(sluice::http::headers::kPath, rewritten);
  }
  if (action.host_rewrite) headers.set(sluice::http::headers::kAuthority, *action.host_rewrite);
  applyRequestMutations(headers);

  std::chrono::milliseconds timeout = action.timeout;
  if (callbacks_->streamInfo().grpc) {
    // The client's deadline caps the route's (itself capped by max_grpc_timeout).
    if (auto g = headers.get("grpc-timeout")) {
      if (auto deadline = sluice::http::grpc::parseTimeout(*g)) {
        if (action.max_grpc_timeout.count() > 0) deadline = std::min(*deadline, action.max_grpc_timeout);
        // A deadline of 0 has passed already; it must not read as "no timeout".
        deadline = std::max(*deadline, std::chrono::milliseconds(1));
        if (timeout.count() == 0 || *deadline <= timeout) {
          timeout = *deadline;
          callbacks_->streamInfo().grpc_deadline = true;
        }
      }
    }
  }
  if (timeout.count() > 0) {
    timeout_timer_.emplace(callbacks_->loop().timers(), [this] { onTimeout(); });
    timeout_timer_->enable(timeout);
  }
  callbacks_->addDownstreamWatermarkCallbacks(*this);
  watermarks_registered_ = true;
  startAttempt();
  return FilterHeadersStatus::StopIteration;
}

bool RouterFilter::startAttempt() {
  // Looked up again for each attempt: a reload during a backoff may have changed the cluster.
  upstream::Cluster* cluster = callbacks_->clusters().get(cluster_name_);
  if (cluster == nullptr) {
    fail(503, ResponseFlag::NoClusterFound, "cluster_not_found");
    return false;
  }
  if (cluster->config().type == config::ClusterType::OriginalDst) [[unlikely]]
    return startOriginalDstAttempt(*cluster);
  const auto pick = cluster->pick(&lb_ctx_);
  if (!pick) {
    cluster_stats_->upstream_cx_none_healthy.inc();
    fail(503, ResponseFlag::NoHealthyUpstream, "no_healthy_upstream");
    return false;
  }
  const upstream::Host& host = cluster->hosts()[pick->host];
  if (retry_) lb_ctx_.tried.push_back(host.shared);
  auto& pool = callbacks_->clusters().httpPool(*cluster, pick->host, upstream::poolProtocol(cluster->config()));
  startOn(*cluster, *pick, host, pool);
  return true;
}

bool RouterFilter::startOriginalDstAttempt(upstream::Cluster& cluster) {
  std::optional<ip::Address> requested;
  if (cluster.config().use_http_header) {
    if (auto v = request_headers_->get(kOriginalDstHostHeader)) {
      requested = ip::Address::parse(*v);
      // Not an IP and port: the connection's own destination, as without the header.
      if (requested && requested->port() == 0) requested.reset();
      if (!requested) cluster_stats_->upstream_rq_original_dst_host_invalid.inc();
    }
  }
  const auto to = net::originalDstTarget(callbacks_->downstreamConnection(), requested ? &*requested : nullptr);
  if (!to) {
    cluster_stats_->upstream_cx_original_dst_loop.inc();
    fail(503, ResponseFlag::NoHealthyUpstream, "original_dst_loop");
    return false;
  }
  auto od = callbacks_->clusters().originalDstPool(cluster, *to, upstream::poolProtocol(cluster.config()));
  startOn(cluster, upstream::Cluster::Pick{0, false}, od.host, od.pool);
  return true;
}

void RouterFilter::startOn(upstream::Cluster& cluster, const upstream::Cluster::Pick& pick, const upstream::Host& host,
                           upstream::HttpConnPool& pool) {
  ++attempts_;
  response_complete_ = false;
  callbacks_->streamInfo().upstream_host = host.name;
  callbacks_->streamInfo().upstream_request_attempt_count = attempts_;
  upstream::Breaker* retry_slot = std::exchange(next_retry_slot_, nullptr);
  attempt_.start(cluster, pick, host, *cluster_stats_, pool, priority_, retry_slot, callbacks_->loop().timers(),
                 retry_ ? retry_->policy().per_try_timeout : std::chrono::milliseconds(0));
}

FilterDataStatus RouterFilter::decodeData(net::Buffer& data, bool end_stream) {
  request_end_ = end_stream;
  if (retry_ && replay_ok_) {
    if (replay_body_.length() + data.length() > retry_->policy().max_request_body_bytes) {
      replay_ok_ = false;  // too long to keep: this request is not retried once it reached an upstream
      replay_body_.clear();
    } else {
      replay_body_.copyFrom(data);
    }
  }
  if (auto* encoder = attempt_.encoder()) {
    encoder->encodeData(data, end_stream);
  } else {
    pending_body_.move(data);
    if (pending_body_.length() > kPendingBodyLimit && !downstream_paused_) {
      downstream_paused_ = true;
      callbacks_->readDisableDownstream(true);
    }
  }
  return FilterDataStatus::StopIterationNoBuffer;
}

FilterTrailersStatus RouterFilter::decodeTrailers(HeaderMap& trailers) {
  request_end_ = true;
  request_trailers_ = &trailers;
  if (auto* encoder = attempt_.encoder()) encoder->encodeTrailers(trailers);
  return FilterTrailersStatus::StopIteration;
}

void RouterFilter::onUpstreamReady() {
  ever_sent_ = true;
  if (retry_) {
    char n[12];
    const auto len = std::snprintf(n, sizeof n, "%u", attempts_);
    request_headers_->set(kAttemptHeader, std::string_view(n, static_cast<size_t>(len)));
  }
  const bool body_end = request_end_ && !request_trailers_;
  const bool headers_only = body_end && pending_body_.empty();
  // Each write may fail the stream (the encoder is then gone), so it is asked for again.
  attempt_.encoder()->encodeHeaders(*request_headers_, headers_only);
  if (!attempt_.encoder()) return;
  if (!headers_only && (!pending_body_.empty() || body_end)) attempt_.encoder()->encodeData(pending_body_, body_end);
  if (attempt_.encoder() && request_end_ && request_trailers_) attempt_.encoder()->encodeTrailers(*request_trailers_);
  if (downstream_paused_) {
    downstream_paused_ = false;
    callbacks_->readDisableDownstream(false);
  }
}

void RouterFilter::onUpstreamFailure(upstream::StreamResetReason reason, std::string_view detail) {
  const auto kind = attemptFailureOf(reason);
  if (!kind) {  // overflow: the host was never tried
    fail(503, ResponseFlag::UpstreamOverflow, detail);
    return;
  }
  if (attempt_.discarding()) {  // a retriable response cut short: the retry is already decided
    endAttempt(false);
    armBackoff();
    return;
  }
  attempt_.reportOutcome(upstream::HostOutcome::GatewayFailure);
  switch (*kind) {
    case AttemptFailure::ConnectFailure:  // counted by the pool (upstream_cx_connect_*)
      attemptFailed(*kind, {503, ResponseFlag::UpstreamConnectionFailure, detail});
      return;
    case AttemptFailure::ProtocolError:
      cluster_stats_->upstream_rq_protocol_error.inc();
      attemptFailed(*kind, {502, ResponseFlag::UpstreamProtocolError, detail});
      return;
    default:  // Reset, RefusedStream
      cluster_stats_->upstream_rq_reset.inc();
      attemptFailed(*kind, {502, ResponseFlag::UpstreamConnectionTermination, detail});
      return;
  }
}

void RouterFilter::attemptFailed(AttemptFailure kind, Failure f) {
  const bool sent = attempt_.sent();
  endAttempt(false);
  if (!response_started_ && !upstream_done_ && scheduleRetry(kind, nullptr, sent)) {
    armBackoff();
    return;
  }
  fail(f.status, f.flag, f.details);
}

bool RouterFilter::scheduleRetry(AttemptFailure kind, const HeaderMap* response, bool request_sent) {
  if (!retriesPossible() || !retry_->retriable(kind, response, request_sent)) return false;
  if (!retry_->retriesLeft()) {
    cluster_stats_->upstream_rq_retry_limit_exceeded.inc();
    callbacks_->streamInfo().setFlag(ResponseFlag::UpstreamRetryLimitExceeded);
    return false;
  }
  upstream::Cluster* cluster = callbacks_->clusters().get(cluster_name_);
  if (cluster == nullptr) return false;
  // The failed attempt is over as far as the budget goes.
  attempt_.releaseRetrySlot();
  auto& group = cluster->shared().breakers(priority_);
  const auto& cb = cluster->config().circuit_breakers;
  if (!group.retries.tryAcquire(
          upstream::retryLimit(priority_ == upstream::RoutingPriority::High ? cb.high : cb.normal, group))) {
    cluster_stats_->upstream_rq_retry_overflow.inc();
    callbacks_->streamInfo().setFlag(ResponseFlag::UpstreamRetryLimitExceeded);
    return false;
  }
  next_retry_slot_ = &group.retries;
  pending_backoff_ = retry_->nextBackoff(response, callbacks_->loop().wallNow(), util::threadRandomSource());
  cluster_stats_->upstream_rq_retry.inc();
  cluster_stats_->upstream_rq_retry_backoff_ms.inc(pending_backoff_.count());
  return true;
}

void RouterFilter::armBackoff() {
  response_complete_ = false;  // that response was read out, not forwarded
  if (!backoff_timer_) backoff_timer_.emplace(callbacks_->loop().timers(), [this] { onBackoffDone(); });
  backoff_timer_->enable(pending_backoff_);
}

void RouterFilter::onBackoffDone() {
  if (upstream_done_) return;
  // Bytes an earlier attempt sent are gone from pending_body_: start again
  // from the kept copy. (A body never sent is still whole in pending_body_.)
  if (ever_sent_) {
    pending_body_.clear();
    pending_body_.copyFrom(replay_body_);
  }
  startAttempt();
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
  attempt_.reportOutcome(upstream::HostOutcome::GatewayFailure);
  fail(504, ResponseFlag::UpstreamRequestTimeout, "upstream_request_timeout");
}

void RouterFilter::onPerTryTimeout() {
  cluster_stats_->upstream_rq_per_try_timeout.inc();
  attempt_.reportOutcome(upstream::HostOutcome::GatewayFailure);
  if (attempt_.discarding()) {  // stuck reading out a retriable response: the retry is already decided
    endAttempt(false);
    armBackoff();
    return;
  }
  attemptFailed(AttemptFailure::PerTryTimeout,
                {504, ResponseFlag::UpstreamPerTryTimeout, "upstream_per_try_timeout"});
}

void RouterFilter::onResponseHeaders(HeaderMap& headers, bool end_stream) {
  const int status = headers.status();
  attempt_.reportOutcome(outcomeOf(status));
  if (auto* cs = cluster_stats_)
    stats::countStatusClass(status, cs->upstream_rq_1xx, cs->upstream_rq_2xx, cs->upstream_rq_3xx,
                            cs->upstream_rq_4xx, cs->upstream_rq_5xx);
  if (retry_ && !response_started_ && scheduleRetry(AttemptFailure::Response, &headers, attempt_.sent())) {
    if (end_stream) {
      response_complete_ = true;
      endAttempt(true);
      armBackoff();
    } else if (request_end_) {
      attempt_.discard();  // read the body out so the connection can be reused
    } else {
      endAttempt(false);  // the request is still streaming: the connection cannot be reused
      armBackoff();
    }
    return;
  }
  response_started_ = true;
  if (attempts_ > 1 && !retry_->retriable(AttemptFailure::Response, &headers, true))
    cluster_stats_->upstream_rq_retry_success.inc();
  applyResponseMutations(headers);
  // Forward before releasing the connection: `headers` (like the data and
  // trailers below) lives in the upstream codec, which the next request on
  // that connection reuses.
  if (end_stream) response_complete_ = true;
  callbacks_->encodeHeaders(headers, end_stream);
  if (end_stream) finishUpstream(true);
}

void RouterFilter::onResponseData(net::Buffer& data, bool end_stream) {
  if (attempt_.discarding()) {
    data.drain(data.length());
    if (end_stream) {
      response_complete_ = true;
      endAttempt(true);
      armBackoff();
    }
    return;
  }
  if (end_stream) response_complete_ = true;
  callbacks_->encodeData(data, end_stream);
  if (end_stream) finishUpstream(true);
}

void RouterFilter::onResponseTrailers(HeaderMap& trailers) {
  response_complete_ = true;
  if (attempt_.discarding()) {
    endAttempt(true);
    armBackoff();
    return;
  }
  callbacks_->encodeTrailers(trailers);
  finishUpstream(true);
}

void RouterFilter::endAttempt(bool success) {
  // A response that ended before the request finished leaves the connection mid-request.
  attempt_.end(success && request_end_);
  // Paused for this attempt's upstream write buffer; the pending-body limit re-pauses if needed.
  if (downstream_paused_) {
    downstream_paused_ = false;
    callbacks_->readDisableDownstream(false);
  }
}

void RouterFilter::finishUpstream(bool success) {
  if (upstream_done_) return;
  upstream_done_ = true;
  if (timeout_timer_) timeout_timer_->disable();
  if (backoff_timer_) backoff_timer_->disable();
  endAttempt(success);
  if (next_retry_slot_) {
    next_retry_slot_->release();
    next_retry_slot_ = nullptr;
  }
  if (request_slot_) {
    request_slot_->release();
    request_slot_ = nullptr;
  }
  if (cluster_stats_ && success) {
    const auto elapsed = callbacks_->loop().now() - start_;
    cluster_stats_->upstream_rq_time.record(std::chrono::duration<double, std::milli>(elapsed).count());
  }
  if (watermarks_registered_) {
    callbacks_->removeDownstreamWatermarkCallbacks(*this);
    watermarks_registered_ = false;
  }
}

void RouterFilter::onDestroy() {
  // The stream may end while the last response bytes are being forwarded
  // (then the connection goes back to the pool), or early: client gone, reset.
  if (!upstream_done_ && cluster_stats_) finishUpstream(response_complete_);
  timeout_timer_.reset();
  backoff_timer_.reset();
  attempt_.onDestroy();
}

void RouterFilter::onAboveWriteBufferHighWatermark() { attempt_.readDisable(true); }

void RouterFilter::onBelowWriteBufferLowWatermark() { attempt_.readDisable(false); }

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
