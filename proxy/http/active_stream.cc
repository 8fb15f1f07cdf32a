#include "proxy/http/active_stream.h"

#include <algorithm>

#include "proxy/http/connection_manager.h"
#include "proxy/http/grpc.h"
#include "proxy/http/path_normalizer.h"
#include "proxy/http/request_metadata.h"
#include "proxy/net/filter.h"
#include "proxy/overload/overload_state.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::http {


// What every filter may ask of its stream, whichever direction it runs in.
template <class Callbacks>
struct CommonCallbacks : Callbacks {
  explicit CommonCallbacks(ActiveStream& s) : stream(s) {}
  event::Loop& loop() override { return stream.loop_; }
  StreamInfo& streamInfo() override { return stream.info_; }
  const Route* route() override { return stream.route(); }
  const VirtualHost* virtualHost() override {
    stream.route();
    return stream.vhost_;
  }
  const RouteConfig* routeConfig() override { return stream.route_config_; }
  const HttpFilterConfig* perFilterConfig(std::string_view name) override {
    if (const auto* r = stream.route())
      if (const auto* c = findPerFilterConfig(r->per_filter_config, name)) return c;
    return stream.vhost_ ? findPerFilterConfig(stream.vhost_->per_filter_config, name) : nullptr;
  }
  void clearRouteCache() override { stream.route_cached_ = false; }
  upstream::ClusterManager& clusters() override { return stream.manager_.context().clusters; }
  const net::Connection& downstreamConnection() override { return stream.manager_.connection(); }
  void resetStream() override { stream.resetStream(); }

  ActiveStream& stream;
};

// The callbacks one decoder filter sees; knows its own position so that
// continueDecoding() resumes after it.
struct ActiveStream::DecoderEntry final : CommonCallbacks<StreamDecoderFilterCallbacks> {
  static void* operator new(size_t n) { return util::ThreadPoolAlloc<DecoderEntry>::allocate(n); }
  static void operator delete(void* p, size_t n) { util::ThreadPoolAlloc<DecoderEntry>::release(p, n); }
  DecoderEntry(ActiveStream& s, size_t i, std::shared_ptr<StreamDecoderFilter> f)
      : CommonCallbacks(s), index(i), filter(std::move(f)) {}
  void continueDecoding() override;
  void sendLocalReply(int status, std::string_view body, ResponseFlag flag, std::string_view details) override {
    stream.sendLocalReply(status, body, flag, details);
  }
  void encodeHeaders(HeaderMap& h, bool end_stream) override { stream.encodeHeaders(h, end_stream); }
  void encodeData(net::Buffer& d, bool end_stream) override { stream.encodeData(d, end_stream); }
  void encodeTrailers(HeaderMap& t) override { stream.encodeTrailers(t); }
  void readDisableDownstream(bool disable) override {
    if (stream.done_) return;
    stream.read_disabled_ += disable ? 1 : -1;
    stream.manager_.codec().readDisable(stream.response_encoder_, disable);
  }
  void addDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) override {
    stream.watermark_callbacks_.push_back(&cb);
    if (stream.watermark_level_ > 0) cb.onAboveWriteBufferHighWatermark();
  }
  void removeDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) override {
    auto& v = stream.watermark_callbacks_;
    v.erase(std::remove(v.begin(), v.end(), &cb), v.end());
  }
  HeaderMap& requestHeaders() override { return *stream.request_headers_; }

  size_t index;
  std::shared_ptr<StreamDecoderFilter> filter;
};

struct ActiveStream::EncoderEntry final : CommonCallbacks<StreamEncoderFilterCallbacks> {
  EncoderEntry(ActiveStream& s, std::shared_ptr<StreamEncoderFilter> f)
      : CommonCallbacks(s), filter(std::move(f)) {}
  void continueEncoding() override;

  size_t index = 0;
  std::shared_ptr<StreamEncoderFilter> filter;
};

struct ActiveStream::DecodeOps {
  ActiveStream& s;
  FilterHeadersStatus headers(size_t i, HeaderMap& h, bool eos) { return s.decoders_[i]->filter->decodeHeaders(h, eos); }
  FilterDataStatus data(size_t i, net::Buffer& d, bool eos) { return s.decoders_[i]->filter->decodeData(d, eos); }
  FilterTrailersStatus trailers(size_t i, HeaderMap& t) { return s.decoders_[i]->filter->decodeTrailers(t); }
  // The router is the last filter and takes everything; nothing reaches here.
  void sinkHeaders(HeaderMap&, bool) {}
  void sinkData(net::Buffer& d, bool) { d.clear(); }
  void sinkTrailers(HeaderMap&) {}
  bool alive() const { return !s.done_ && !s.local_reply_; }
  void overLimit() { s.sendLocalReply(413, "request body too large to buffer\n", ResponseFlag::LocalReply, "request_buffer_limit"); }
};

struct ActiveStream::EncodeOps {
  ActiveStream& s;
  FilterHeadersStatus headers(size_t i, HeaderMap& h, bool eos) { return s.encoders_[i]->filter->encodeHeaders(h, eos); }
  FilterDataStatus data(size_t i, net::Buffer& d, bool eos) { return s.encoders_[i]->filter->encodeData(d, eos); }
  FilterTrailersStatus trailers(size_t i, HeaderMap& t) { return s.encoders_[i]->filter->encodeTrailers(t); }
  void sinkHeaders(HeaderMap& h, bool eos) {
    s.response_started_ = true;
    s.info_.status = h.status();
    if (s.info_.grpc)
      if (auto g = grpc::statusOf(h)) s.info_.grpc_status = *g;
    s.response_encoder_.encodeHeaders(h, eos);
    if (eos) s.onResponseComplete();
  }
  void sinkData(net::Buffer& d, bool eos) {
    s.info_.response_body_bytes += d.length();
    s.response_encoder_.encodeData(d, eos);
    if (eos) s.onResponseComplete();
  }
  void sinkTrailers(HeaderMap& t) {
    if (s.info_.grpc)
      if (auto g = grpc::statusOf(t)) s.info_.grpc_status = *g;
    s.response_encoder_.encodeTrailers(t);
    s.onResponseComplete();
  }
  bool alive() const { return !s.done_; }
  void overLimit() { s.resetStream(); }
};

struct ActiveStream::Chain {
  static void* operator new(size_t n) { return util::ThreadPoolAlloc<Chain>::allocate(n); }
  static void operator delete(void* p, size_t n) { util::ThreadPoolAlloc<Chain>::release(p, n); }
  Chain(ActiveStream& s, uint64_t buffer_limit)
      : decode_ops{s},
        encode_ops{s},
        decode(decode_ops, s.decoders_.size(), buffer_limit),
        encode(encode_ops, s.encoders_.size(), buffer_limit) {}
  DecodeOps decode_ops;
  EncodeOps encode_ops;
  FilterIteration<DecodeOps> decode;
  FilterIteration<EncodeOps> encode;
};

void ActiveStream::DecoderEntry::continueDecoding() {
  if (stream.chain_) stream.chain_->decode.resume(index);
  stream.maybeDone();
}

void ActiveStream::EncoderEntry::continueEncoding() {
  if (stream.chain_) stream.chain_->encode.resume(index);
}

void* ActiveStream::operator new(size_t n) { return util::ThreadPoolAlloc<ActiveStream>::allocate(n); }
void ActiveStream::operator delete(void* p, size_t n) { util::ThreadPoolAlloc<ActiveStream>::release(p, n); }

ActiveStream::ActiveStream(ConnectionManager& manager, MessageEncoder& response)
    : manager_(manager),
      loop_(manager.context().loop),
      response_encoder_(response),
      idle_timer_(loop_.timers(), [](void* s) { static_cast<ActiveStream*>(s)->onIdleTimer(); }, this),
      duration_timer_(loop_.timers(), [](void* s) { static_cast<ActiveStream*>(s)->onMaxDuration(); }, this) {
  route_config_ = manager_.currentRouteConfig(routes_);
  info_.start = loop_.now();
  info_.start_wall = loop_.wallNow();
  info_.downstream_address = manager_.connection().peerAddress();
  info_.downstream_tls = manager_.connection().tlsInfo();
  info_.http2 = manager_.http2();
  if (manager_.downstreamAboveHighWatermark()) watermark_level_ = 1;
}

ActiveStream::~ActiveStream() {
  // Filters may hold pointers to their entries: destroy filters first.
  for (auto& d : decoders_) d->filter.reset();
  for (auto& e : encoders_) e->filter.reset();
}

void ActiveStream::addDecoderFilter(std::shared_ptr<StreamDecoderFilter> f) {
  decoders_.push_back(std::make_unique<DecoderEntry>(*this, decoders_.size(), std::move(f)));
  decoders_.back()->filter->setDecoderFilterCallbacks(*decoders_.back());
}

void ActiveStream::addEncoderFilter(std::shared_ptr<StreamEncoderFilter> f) {
  encoders_.push_back(std::make_unique<EncoderEntry>(*this, std::move(f)));
  encoders_.back()->filter->setEncoderFilterCallbacks(*encoders_.back());
}

const Route* ActiveStream::route() {
  if (!route_cached_ && request_headers_) {
    route_ = route_config_ ? route_config_->route(*request_headers_, &vhost_) : nullptr;
    route_cached_ = true;
    info_.route_name = route_ ? route_->name : "";
    info_.route_key = route_;
  }
  return route_;
}

void ActiveStream::decodeHeaders(HeaderMap& headers, bool end_stream) {
  request_headers_ = &headers;
  request_complete_ = end_stream;
  info_.grpc = grpc::isGrpc(headers);
  touch();
  const auto& cfg = manager_.config();
  auto ids = addRequestMetadata(headers, manager_.peerIp(), cfg.xff_num_trusted_hops,
                                cfg.generate_request_id);
  const net::TlsInfo* tls = manager_.connection().tlsInfo();
  applyForwardClientCert(headers, cfg.forward_client_cert_details, tls, tls ? tls->local_spiffe_id : std::string_view());
  info_.request_id = ids.request_id;
  info_.trace_id = ids.trace_id;
  // Before the route is looked up: from here on the normalized path is the
  // only one (routes, filters, the upstream). A normal path costs one scan.
  thread_local std::string path_scratch;
  const NormalizedPath norm = normalizePath(headers.path(), cfg, path_scratch);
  // Whatever the client wrote there is not what we received.
  if (!cfg.original_path_header.empty()) headers.remove(cfg.original_path_header);
  if (norm.kind != NormalizedPath::Kind::Unchanged) {
    if (!cfg.access_logs.empty()) info_.original_path = std::string(headers.path());
    if (norm.kind == NormalizedPath::Kind::Normalized) {
      if (!cfg.original_path_header.empty()) {
        // Copied out first: the value views the map, which add() may grow.
        thread_local std::string original;
        original.assign(headers.path());
        headers.add(cfg.original_path_header, original);
      }
      headers.set(headers::kPath, norm.path);  // a view of the scratch, not of the map
      manager_.context().listener_stats.downstream_rq_path_normalized.inc();
    }
  }
  if (!cfg.access_logs.empty()) {
    info_.method = std::string(headers.method());
    info_.path = std::string(headers.path());
    info_.authority = std::string(headers.authority());
  }

  for (const auto& f : cfg.http_filters) f.factory->createFilters(*f.config, *this);
  std::reverse(encoders_.begin(), encoders_.end());  // responses run the chain backwards
  for (size_t i = 0; i < encoders_.size(); ++i) encoders_[i]->index = i;

  chain_ = std::make_unique<Chain>(*this, cfg.buffer_limit_bytes);
  if (cfg.stream_idle_timeout.count() > 0) idle_timer_.enable(cfg.stream_idle_timeout);
  if (cfg.max_stream_duration.count() > 0) duration_timer_.enable(cfg.max_stream_duration);
  if (norm.kind == NormalizedPath::Kind::Reject || norm.kind == NormalizedPath::Kind::Redirect) {
    // Answered through the encoder filters like any local reply; no decoder
    // filter ever sees the path.
    refusePath(norm);
    maybeDone();
    return;
  }
  const auto& overload = manager_.context().overload;
  if (overload.active(config::OverloadAction::DisableKeepalive)) manager_.disableKeepalive();
  if (overload.active(config::OverloadAction::ShedRequests)) {
    // Before any filter or upstream work; streams already in flight go on.
    // The route is looked up so the shed request counts on it.
    route();
    manager_.context().listener_stats.downstream_rq_overload_shed.inc();
    sendLocalReply(503, "overloaded\n", ResponseFlag::Overload, "overload_shed");
    maybeDone();
    return;
  }
  chain_->decode.headers(headers, end_stream);
  // The request goes on: let a client waiting on Expect: 100-continue send its body.
  if (!end_stream && !done_ && !local_reply_ && !response_started_) manager_.codec().send100Continue();
  maybeDone();
}

void ActiveStream::decodeData(net::Buffer& data, bool end_stream) {
  info_.request_body_bytes += data.length();
  touch();
  if (end_stream) request_complete_ = true;
  if (done_ || local_reply_) {
    data.clear();
  } else {
    chain_->decode.data(data, end_stream);
  }
  maybeDone();
}

void ActiveStream::decodeTrailers(HeaderMap& trailers) {
  request_complete_ = true;
  touch();
  // Nor here: an upstream that merges trailers into headers would read it.
  if (const auto& name = manager_.config().original_path_header; !name.empty()) trailers.remove(name);
  if (!done_ && !local_reply_) chain_->decode.trailers(trailers);
  maybeDone();
}

void ActiveStream::refusePath(const NormalizedPath& norm) {
  auto& stats = manager_.context().listener_stats;
  if (norm.kind == NormalizedPath::Kind::Redirect) {
    stats.downstream_rq_path_redirected.inc();
    // A relative Location (RFC 9110 10.2.2): the client retries on this authority.
    sendLocalReply(307, {}, ResponseFlag::LocalReply, "escaped_slash_redirect", norm.path);
    return;
  }
  stats.downstream_rq_path_rejected.inc();
  const std::string_view details = pathErrorDetails(norm.error);
  std::string body;
  body.append(details).append(": ").append(pathErrorText(norm.error)).push_back('\n');
  sendLocalReply(400, body, ResponseFlag::DownstreamProtocolError, details);
}

void ActiveStream::sendLocalReply(int status, std::string_view body, ResponseFlag flag, std::string_view details,
                                  std::string_view location) {
  if (done_) return;
  if (response_started_ || local_reply_) {
    resetStream();
    return;
  }
  local_reply_ = true;
  info_.setFlag(flag);
  info_.details = std::string(details);
  local_reply_headers_.clear();
  if (info_.grpc) {
    // A gRPC client reads only grpc-status: a trailers-only response.
    const int code = flag == ResponseFlag::UpstreamRequestTimeout && info_.grpc_deadline
                         ? grpc::kDeadlineExceeded
                         : grpc::statusForHttp(status);
    std::string_view message = body.empty() ? details : body;
    while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
    local_reply_headers_.setStatus(200);
    local_reply_headers_.add("content-type", "application/grpc");
    local_reply_headers_.add("grpc-status", std::to_string(code));
    local_reply_headers_.add("grpc-message", grpc::encodeMessage(message));
    encodeHeaders(local_reply_headers_, true);
    return;
  }
  local_reply_headers_.setStatus(status);
  if (!location.empty()) local_reply_headers_.add("location", location);
  if (!body.empty()) {
    local_reply_headers_.add("content-type", "text/plain");
    local_reply_headers_.add("content-length", std::to_string(body.size()));
  } else {
    local_reply_headers_.add("content-length", "0");
  }
  encodeHeaders(local_reply_headers_, body.empty());
  if (!body.empty() && !done_) {
    net::Buffer b;
    b.add(body);
    encodeData(b, true);
  }
}

void ActiveStream::encodeHeaders(HeaderMap& headers, bool end_stream) {
  touch();
  if (!done_) chain_->encode.headers(headers, end_stream);
}

void ActiveStream::encodeData(net::Buffer& data, bool end_stream) {
  touch();
  if (!done_) chain_->encode.data(data, end_stream);
}

void ActiveStream::encodeTrailers(HeaderMap& trailers) {
  touch();
  if (!done_) chain_->encode.trailers(trailers);
}

void ActiveStream::onResponseComplete() {
  response_complete_ = true;
  maybeDone();
}

void ActiveStream::maybeDone() {
  if (done_ || !response_complete_) return;
  // A response that finished before its request did (a local reply, an early
  // upstream answer): whether the connection survives is the codec's call.
  // HTTP/1 cannot skip the rest of the request reliably and has marked the
  // connection to close; HTTP/2 ends just this stream.
  const bool close = !request_complete_ && manager_.codec().closeAfterResponse();
  done_ = true;
  info_.end = loop_.now();
  stopTimers();
  destroyFilters();
  if (read_disabled_ > 0) {
    for (; read_disabled_ > 0; --read_disabled_) manager_.codec().readDisable(response_encoder_, false);
  }
  manager_.onStreamDone(*this, close);
}

void ActiveStream::destroyFilters() {
  for (auto& d : decoders_)
    if (d->filter) d->filter->onDestroy();
  // A filter in both chains hears onDestroy once, through the decoder side.
  for (auto& e : encoders_)
    if (e->filter && !std::dynamic_pointer_cast<StreamDecoderFilter>(e->filter)) e->filter->onDestroy();
}

void ActiveStream::resetStream() {
  if (done_) return;
  reset_ = true;
  done_ = true;
  info_.end = loop_.now();
  stopTimers();
  destroyFilters();
  manager_.codec().resetStream(response_encoder_, StreamResetReason::LocalReset);
  // HTTP/1 cannot end one exchange alone and says so; HTTP/2 goes on.
  manager_.onStreamDone(*this, manager_.codec().closeAfterResponse());
}

void ActiveStream::onDownstreamReset(StreamResetReason reason) {
  if (done_) return;
  if (!response_complete_) {
    info_.setFlag(reason == StreamResetReason::ProtocolError ? ResponseFlag::DownstreamProtocolError
                                                             : ResponseFlag::DownstreamConnectionTermination);
  }
  read_disabled_ = 0;  // the connection is gone
  done_ = true;
  reset_ = true;
  info_.end = loop_.now();
  stopTimers();
  destroyFilters();
}

void ActiveStream::onDownstreamWatermark(bool above) {
  // Two sources (the connection's buffer, and on HTTP/2 this stream's
  // window): paused while either is above.
  if (above) {
    if (watermark_level_++ > 0) return;
  } else {
    if (watermark_level_ == 0 || --watermark_level_ > 0) return;
  }
  // Copy: a callback may remove itself.
  auto cbs = watermark_callbacks_;
  for (auto* cb : cbs) {
    if (above) {
      cb->onAboveWriteBufferHighWatermark();
    } else {
      cb->onBelowWriteBufferLowWatermark();
    }
  }
}

void ActiveStream::onCodecError(int status, std::string_view details) {
  info_.setFlag(ResponseFlag::DownstreamProtocolError);
  request_complete_ = false;
  if (!response_started_) {
    sendLocalReply(status, std::string(details) + "\n", ResponseFlag::DownstreamProtocolError, details);
  } else {
    resetStream();
  }
}

void ActiveStream::stopTimers() {
  idle_timer_.disable();
  duration_timer_.disable();
}

void ActiveStream::onMaxDuration() {
  if (done_) return;
  if (!response_started_) {
    sendLocalReply(408, "max stream duration reached\n", ResponseFlag::DurationTimeout, "max_duration_timeout");
  } else {
    info_.setFlag(ResponseFlag::DurationTimeout);
    resetStream();
  }
}

void ActiveStream::onIdleTimer() {
  const auto timeout = manager_.config().stream_idle_timeout;
  const auto idle = loop_.now() - last_activity_;
  if (idle < timeout) {
    idle_timer_.enable(std::chrono::duration_cast<event::Duration>(timeout - idle) + event::Duration(1));
    return;
  }
  info_.setFlag(ResponseFlag::StreamIdleTimeout);
  if (!response_started_) {
    sendLocalReply(408, "stream idle timeout\n", ResponseFlag::StreamIdleTimeout, "stream_idle_timeout");
  } else {
    resetStream();
  }
}

}  // namespace sluice::http
