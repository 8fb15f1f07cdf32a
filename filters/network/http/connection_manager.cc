#include "filters/network/http/connection_manager.h"

#include "filters/network/http/active_stream.h"
#include "filters/network/http/http_observer.h"
#include "proxy/http/http1_codec.h"
#include "proxy/http/status.h"

namespace sluice::filters::http_cm {
namespace {

// While a response is outstanding, pipelined requests wait in input_; past
// this, stop reading so a client cannot queue unbounded bytes.
constexpr size_t kMaxPipelinedInput = 64 * 1024;
// After our last response on a connection, how long the client gets to close.
constexpr auto kCloseLinger = std::chrono::seconds(5);

}  // namespace

ConnectionManager::ConnectionManager(const HttpConfig& config, network::FilterContext& ctx)
    : config_(config), ctx_(ctx) {}

ConnectionManager::~ConnectionManager() {
  // Streams reference the codec and the connection: release them first.
  if (stream_) {
    stream_->onDownstreamReset();
    stream_.reset();
  }
}

void ConnectionManager::initialize(network::ReadFilterCallbacks& callbacks) {
  callbacks_ = &callbacks;
  connection().addCallbacks(this);
  peer_ip_ = connection().peerAddress().ip();
  codec_ = sluice::http::makeHttp1ServerCodec(*this, *this, config_.limits);
  request_headers_timer_ = ctx_.loop.createTimer([this] {
    rejectAndClose(408, "request headers timeout", static_cast<uint32_t>(sluice::http::ResponseFlag::RequestHeadersTimeout));
  });
  idle_timer_ = ctx_.loop.createTimer([this] {
    closing_ = true;
    connection().close(net::CloseType::NoFlush);
  });
  dispatch_timer_ = ctx_.loop.createTimer([this] { dispatch(); });
  stream_duration_timer_ = ctx_.loop.createTimer([this] {
    if (stream_) stream_->onMaxDuration();
  });
  stream_idle_timer_ = ctx_.loop.createTimer([this] {
    if (stream_) stream_->onIdleTimer();
  });
  armIdleTimers();
}

void ConnectionManager::armIdleTimers() {
  if (config_.idle_timeout.count() > 0) idle_timer_->enable(config_.idle_timeout);
}

network::FilterStatus ConnectionManager::onData(net::Buffer& data, bool end_stream) {
  if (end_stream) downstream_eof_ = true;
  if (closing_) {
    data.clear();
    return network::FilterStatus::StopIteration;
  }
  if (!data.empty()) {
    input_.move(data);
    if (!stream_) {
      idle_timer_->disable();
      if (config_.request_headers_timeout.count() > 0 && !request_headers_timer_->enabled())
        request_headers_timer_->enable(config_.request_headers_timeout);
    }
  }
  dispatch();
  if (end_stream && stream_ && !closing_) codec_->dispatchEof();
  if (downstream_eof_ && !stream_ && !closing_) {
    // The client finished sending with no request in flight: nothing more will come.
    closing_ = true;
    connection().close(net::CloseType::FlushWrite);
  }
  return network::FilterStatus::StopIteration;
}

void ConnectionManager::dispatch() {
  if (closing_ || input_.empty()) return;
  auto err = codec_->dispatch(input_);
  if (err) {
    if (stream_) {
      stream_->onCodecError(err->status, err->detail);
    } else {
      rejectAndClose(err->status, err->detail,
                     static_cast<uint32_t>(sluice::http::ResponseFlag::DownstreamProtocolError));
    }
    return;
  }
  if (!closing_ && codec_->pausedForResponse() && input_.length() > kMaxPipelinedInput && !input_paused_) {
    input_paused_ = true;
    connection().readDisable(true);
  }
}

sluice::http::MessageDecoder& ConnectionManager::onNewRequest(sluice::http::MessageEncoder& response) {
  request_headers_timer_->disable();
  idle_timer_->disable();
  stream_ = std::make_unique<ActiveStream>(*this, response);
  observeStreamStart(ctx_);
  return *stream_;
}

void ConnectionManager::writeBytes(net::Buffer& data, bool end_stream) {
  connection().write(data, end_stream);
  if (end_stream && !closing_) {
    // Our FIN follows the response; give the client a moment to close its side.
    closing_ = true;
    idle_timer_->enable(std::chrono::duration_cast<event::Duration>(kCloseLinger));
  }
}

void ConnectionManager::onStreamDone(ActiveStream& stream, bool close_connection) {
  observeStreamEnd(ctx_, config_, stream.info(), true);
  ctx_.loop.deferredDelete(std::move(stream_));
  if (close_connection && !closing_) {
    closing_ = true;
    connection().close(stream.info().end && stream.responseStarted() && !stream.info().hasFlag(
                                                                            sluice::http::ResponseFlag::DownstreamConnectionTermination)
                           ? net::CloseType::FlushWrite
                           : net::CloseType::NoFlush);
    return;
  }
  if (closing_) return;
  if (input_paused_) {
    input_paused_ = false;
    connection().readDisable(false);
  }
  if (downstream_eof_ && input_.empty()) {
    closing_ = true;
    connection().close(net::CloseType::FlushWrite);
    return;
  }
  armIdleTimers();
  // The next pipelined request: not from here, we may be inside the codec.
  if (!input_.empty()) {
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
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(sluice::http::reasonPhrase(status)) +
                    "\r\ncontent-type: text/plain\r\ncontent-length: " + std::to_string(body.size()) +
                    "\r\nconnection: close\r\n\r\n" + body;
  net::Buffer b;
  b.add(out);
  connection().write(b, /*end_stream=*/true);
  sluice::http::StreamInfo info;
  info.start = ctx_.loop.now();
  info.end = info.start;
  info.start_wall = std::chrono::system_clock::now();
  info.status = status;
  info.response_flags = flag;
  info.details = std::string(details);
  info.downstream_address = connection().peerAddress();
  info.downstream_tls = connection().tlsInfo();
  observeStreamEnd(ctx_, config_, info, false);
  idle_timer_->enable(std::chrono::duration_cast<event::Duration>(kCloseLinger));
}

void ConnectionManager::onEvent(net::ConnectionEvent event) {
  if (event != net::ConnectionEvent::Closed) return;
  closing_ = true;
  request_headers_timer_->disable();
  idle_timer_->disable();
  dispatch_timer_->disable();
  if (stream_) {
    stream_->onDownstreamReset();
    observeStreamEnd(ctx_, config_, stream_->info(), true);
    ctx_.loop.deferredDelete(std::move(stream_));
  }
}

void ConnectionManager::onAboveWriteBufferHighWatermark() {
  above_high_ = true;
  if (stream_) stream_->onDownstreamWatermark(true);
}

void ConnectionManager::onBelowWriteBufferLowWatermark() {
  above_high_ = false;
  if (stream_) stream_->onDownstreamWatermark(false);
}

}  // namespace sluice::filters::http_cm
