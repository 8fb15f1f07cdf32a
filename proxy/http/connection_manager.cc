#include "proxy/http/connection_manager.h"

#include "proxy/http/http_observer.h"
#include "proxy/http/http1_codec.h"
#include "proxy/http/http2_codec.h"
#include "proxy/stats/stats.h"

namespace sluice::http {
namespace {

// After our last response on a connection, how long the client gets to close.
constexpr auto kCloseLinger = std::chrono::seconds(5);
// HTTP/1 cannot tell an idle keep-alive client to leave: closing between
// requests races a request already on the wire. A busy client sends its next
// request within this grace and is told by `Connection: close` on its
// response; one idle for this long is closed (as HAProxy's
// idle-close-on-response does, but bounded).
constexpr auto kDrainIdleGrace = std::chrono::seconds(1);

}  // namespace

ConnectionManager::ConnectionManager(const ConnectionManagerConfig& config, net::FilterContext& ctx)
    : config_(config), ctx_(ctx) {}

ConnectionManager::~ConnectionManager() {
  // Streams reference the codec and the connection: release them first.
  while (!streams_.empty()) {
    ActiveStream& s = streams_.front();
    streams_.pop_front();
    s.onDownstreamReset();
    delete &s;
  }
}

void ConnectionManager::initialize(net::ReadFilterCallbacks& callbacks) {
  callbacks_ = &callbacks;
  connection().addCallbacks(this);
  peer_ip_ = connection().peerAddress().ip();
  request_headers_timer_ = ctx_.loop.createTimer([this] {
    rejectAndClose(408, "request headers timeout", static_cast<uint32_t>(ResponseFlag::RequestHeadersTimeout));
  });
  idle_timer_ = ctx_.loop.createTimer([this] {
    closing_ = true;
    // HTTP/2 can say goodbye (GOAWAY) before it goes.
    if (multiplexed_) {
      codec_->goAway();
      connection().close(net::CloseType::FlushWrite);
      return;
    }
    connection().close(net::CloseType::NoFlush);
  });
  dispatch_timer_ = ctx_.loop.createTimer([this] {
    net::Buffer none;
    dispatch(none);
    // The client had finished sending and the backlog is answered.
    if (downstream_eof_ && streams_.empty() && !closing_ && !codec_->hasPendingInput()) {
      closing_ = true;
      connection().close(net::CloseType::FlushWrite);
    }
  });
  armIdleTimers();
}

bool ConnectionManager::chooseCodec(const net::Buffer& data) {
  bool h2 = config_.codec == config::HttpCodec::Http2;
  if (config_.codec == config::HttpCodec::Auto) {
    if (const auto* tls = connection().tlsInfo()) {
      h2 = tls->alpn == "h2";
    } else {
      // Plaintext: HTTP/2 with prior knowledge starts with the preface.
      std::string head;
      data.copyOut(std::min(data.length(), kHttp2Preface.size()), head);
      if (kHttp2Preface.substr(0, head.size()) == head && head.size() < kHttp2Preface.size()) return false;
      h2 = head == kHttp2Preface;
    }
  }
  if (h2) {
    multiplexed_ = true;
    request_headers_timer_->disable();  // HTTP/2 frames are not a request's head
    ctx_.listener_stats.downstream_cx_http2.inc();
    codec_ = makeHttp2ServerCodec(*this, *this, config_.limits, config_.http2,
                                  {ctx_.loop, ctx_.listener_stats, connection().peerAddress().str(),
                                   ctx_.listener.per_connection_buffer_limit_bytes});
  } else {
    ctx_.listener_stats.downstream_cx_http1.inc();
    codec_ = makeHttp1ServerCodec(*this, *this, config_.limits);
  }
  // Drained before the client's first bytes: the codec hears it now.
  if (draining_) codec_->shutdownNotice();
  return true;
}

void ConnectionManager::closeConnection() {
  if (closing_) return;
  closing_ = true;
  connection().close(net::CloseType::FlushWrite);
}

bool ConnectionManager::aboveWriteBufferHighWatermark() const {
  return callbacks_->connection().aboveHighWatermark();
}

void ConnectionManager::onStreamWatermark(MessageEncoder& response, bool above) {
  if (ActiveStream* stream = findStream(&response)) stream->onDownstreamWatermark(above);
}

void ConnectionManager::armIdleTimers() {
  idle_since_ = ctx_.loop.now();
  if (draining_) {
    armDrainClose();
    return;
  }
  if (config_.idle_timeout.count() > 0) idle_timer_->enable(config_.idle_timeout);
}

const RouteConfig* ConnectionManager::currentRouteConfig(
    std::shared_ptr<const RouteTables>& tables) {
  if (routes_ != ctx_.routes) {
    routes_ = ctx_.routes;
    route_config_ = routes_ ? routes_->find(config_.route_config_name) : nullptr;
  }
  tables = routes_;
  return route_config_;
}

void ConnectionManager::onDrain() {
  if (draining_) return;
  draining_ = true;
  if (codec_) codec_->shutdownNotice();
  if (!closing_ && streams_.empty() && !(codec_ && codec_->hasPendingInput()) && !partial_request_) armDrainClose();
}

void ConnectionManager::disableKeepalive() {
  if (draining_) return;
  ctx_.listener_stats.downstream_cx_overload_keepalive_disabled.inc();
  onDrain();
}

void ConnectionManager::onDrainTimeout() {
  if (closing_ || !codec_) return;
  codec_->goAway();
}

void ConnectionManager::armDrainClose() {
  const auto idle = ctx_.loop.now() - idle_since_;
  const auto grace = std::chrono::duration_cast<event::Duration>(kDrainIdleGrace);
  const auto left = std::chrono::duration_cast<event::Duration>(grace - idle);
  // The idle timer's callback closes the connection; a request arriving
  // first disables it, and its response carries `Connection: close`.
  idle_timer_->enable(std::max(left, event::Duration(0)));
}

net::FilterStatus ConnectionManager::onData(net::Buffer& data, bool end_stream) {
  if (end_stream) downstream_eof_ = true;
  if (closing_) {
    data.clear();
    return net::FilterStatus::StopIteration;
  }
  if (!codec_ && !data.empty() && config_.request_headers_timeout.count() > 0 && !request_headers_timer_->enabled()) {
    // Until the codec is chosen too: a client that stops inside what may be
    // the h2c preface ("PRI * HTTP/2.0\r\n\r\n") gets its 408 like any
    // other slow head, not the hour of idle_timeout. HTTP/2 disables it.
    request_headers_timer_->enable(config_.request_headers_timeout);
  }
  if (!codec_ && (data.empty() || !chooseCodec(data))) {
    // Nothing yet, or a prefix of the HTTP/2 preface: wait for the rest.
    if (end_stream && !closing_) {
      closing_ = true;
      connection().close(net::CloseType::FlushWrite);
    }
    return net::FilterStatus::StopIteration;
  }
  if (!multiplexed_ && !data.empty() && streams_.empty()) {
    idle_timer_->disable();
    if (config_.request_headers_timeout.count() > 0 && !request_headers_timer_->enabled())
      request_headers_timer_->enable(config_.request_headers_timeout);
  }
  dispatch(data);
  // What the codec left is the start of a request still arriving.
  partial_request_ = !data.empty();
  if (end_stream && multiplexed_ && !closing_) {
    // HTTP/2 has no half-close of the connection: a client that sent FIN
    // can acknowledge nothing more (no WINDOW_UPDATE, no PING), so its
    // streams cannot finish. Their upstream requests are cancelled.
    closing_ = true;
    connection().close(net::CloseType::FlushWrite);
    return net::FilterStatus::StopIteration;
  }
  if (end_stream && !streams_.empty() && !closing_) codec_->dispatchEof();
  if (downstream_eof_ && streams_.empty() && !closing_) {
    // The client finished sending with no request in flight: nothing more will come.
    closing_ = true;
    connection().close(net::CloseType::FlushWrite);
  }
  return net::FilterStatus::StopIteration;
}

void ConnectionManager::dispatch(net::Buffer& data) {
  if (closing_) return;
  // Requests after one answered inside this call are still in `data`, not
  // in the codec: onStreamDone must not take the client's EOF for the end.
  dispatching_ = true;
  auto err = codec_->dispatch(data);
  dispatching_ = false;
  if (err) {
    ActiveStream* stream = err->scope == ErrorScope::Stream ? findStream(err->stream) : nullptr;
    if (stream != nullptr) {
      stream->onCodecError(err->status, err->detail);
    } else {
      rejectAndClose(err->status, err->detail,
                     static_cast<uint32_t>(ResponseFlag::DownstreamProtocolError));
    }
  }
}

MessageDecoder& ConnectionManager::onNewRequest(MessageEncoder& response) {
  request_headers_timer_->disable();
  idle_timer_->disable();
  auto* stream = new ActiveStream(*this, response);
  streams_.push_back(*stream);
  observeStreamStart(ctx_);
  return *stream;
}

void ConnectionManager::writeBytes(net::Buffer& data, bool end_stream) {
  connection().write(data, end_stream);
  if (end_stream && !closing_) {
    // Our FIN follows the response; give the client a moment to close its side.
    closing_ = true;
    idle_timer_->enable(std::chrono::duration_cast<event::Duration>(kCloseLinger));
  }
}

ActiveStream* ConnectionManager::findStream(const MessageEncoder* response) {
  for (auto& s : streams_)
    if (&s.responseEncoder() == response) return &s;
  return nullptr;
}

void ConnectionManager::onStreamReset(MessageEncoder& response, StreamResetReason reason) {
  ActiveStream* stream = findStream(&response);
  if (stream == nullptr) return;
  stream->onDownstreamReset(reason);
  releaseStream(*stream);
  // The client's last stream went: the connection is idle again.
  if (streams_.empty() && !closing_) armIdleTimers();
}

void ConnectionManager::releaseStream(ActiveStream& stream) {
  streams_.erase(streams_.iterator_to(stream));
  observeStreamEnd(ctx_, config_, stream.info(), true, &stream.routes());
  // Not inside its own callback: freed at the end of the turn.
  ctx_.loop.deferredDelete(std::unique_ptr<event::DeferredDeletable>(&stream));
}

void ConnectionManager::readDisable(bool disable) { connection().readDisable(disable); }

void ConnectionManager::onStreamDone(ActiveStream& stream, bool close_connection) {
  releaseStream(stream);
  if (close_connection && !closing_) {
    closing_ = true;
    connection().close(stream.info().end && stream.responseStarted() && !stream.info().hasFlag(
                                                                            ResponseFlag::DownstreamConnectionTermination)
                           ? net::CloseType::FlushWrite
                           : net::CloseType::NoFlush);
    return;
  }
  if (closing_) return;
  if (downstream_eof_ && streams_.empty() && !dispatching_ && !codec_->hasPendingInput()) {
    closing_ = true;
    connection().close(net::CloseType::FlushWrite);
    return;
  }
  if (streams_.empty()) armIdleTimers();
  // The next pipelined request: not from here, we may be inside the codec.
  if (codec_->hasPendingInput()) {
    request_headers_timer_->enable(config_.request_headers_timeout.count() > 0 ? config_.request_headers_timeout
                                                                                : std::chrono::hours(24));
    dispatch_timer_->enable(event::Duration(0));
  }
}

void ConnectionManager::rejectAndClose(int status, std::string_view details, uint32_t flag) {
  if (closing_) return;
  closing_ = true;
  request_headers_timer_->disable();
  const std::string body = std::string(details) + "\n";
  HeaderMap headers;
  headers.setStatus(status);
  headers.add("content-type", "text/plain");
  headers.add("content-length", std::to_string(body.size()));
  // Too slow to tell which HTTP it was: answer as HTTP/1.
  if (!codec_) codec_ = makeHttp1ServerCodec(*this, *this, config_.limits);
  auto& encoder = codec_->rejectEncoder();
  encoder.encodeHeaders(headers, false);
  net::Buffer b;
  b.add(body);
  encoder.encodeData(b, true);
  StreamInfo info;
  info.start = ctx_.loop.now();
  info.end = info.start;
  info.start_wall = ctx_.loop.wallNow();
  info.status = status;
  info.response_flags = flag;
  info.details = std::string(details);
  info.downstream_address = connection().peerAddress();
  info.downstream_tls = connection().tlsInfo();
  observeStreamEnd(ctx_, config_, info, false, nullptr);
  idle_timer_->enable(std::chrono::duration_cast<event::Duration>(kCloseLinger));
}

void ConnectionManager::onEvent(net::ConnectionEvent event) {
  if (event != net::ConnectionEvent::Closed) return;
  closing_ = true;
  request_headers_timer_->disable();
  idle_timer_->disable();
  dispatch_timer_->disable();
  while (!streams_.empty()) {
    ActiveStream& s = streams_.front();
    s.onDownstreamReset();
    releaseStream(s);
  }
}

void ConnectionManager::onAboveWriteBufferHighWatermark() {
  above_high_ = true;
  for (auto it = streams_.begin(); it != streams_.end();) (it++)->onDownstreamWatermark(true);
}

void ConnectionManager::onBelowWriteBufferLowWatermark() {
  above_high_ = false;
  for (auto it = streams_.begin(); it != streams_.end();) (it++)->onDownstreamWatermark(false);
  // Frames HTTP/2 held back while the buffer was full.
  if (codec_) codec_->onWriteBufferLowWatermark();
}

}  // namespace sluice::http
