#pragma once
// ConnectionManager: the `http` network filter. Owns the server codec of one
// downstream connection and the streams it yields (HTTP/1: one at a time;
// pipelined requests wait in input_ until the current response completes).
// Worker thread only.

#include <memory>

#include "filters/network/http/config.h"
#include "proxy/event/timer.h"
#include "proxy/http/codec.h"
#include "proxy/http/route_tables.h"
#include "proxy/net/connection.h"
#include "proxy/network/filter.h"

namespace sluice::filters::http_cm {

class ActiveStream;

class ConnectionManager final : public network::NetworkFilter,
                                public sluice::http::ServerCodecCallbacks,
                                public sluice::http::CodecOutput,
                                public net::ConnectionCallbacks {
 public:
  ConnectionManager(const HttpConfig& config, network::FilterContext& ctx);
  ~ConnectionManager() override;

  void initialize(network::ReadFilterCallbacks& callbacks) override;
  network::FilterStatus onData(net::Buffer& data, bool end_stream) override;
  // The next response says `Connection: close`; an idle connection closes
  // once it has been idle for kDrainIdleGrace (see the .cc).
  void onDrain() override;

  sluice::http::MessageDecoder& onNewRequest(sluice::http::MessageEncoder& response) override;
  void writeBytes(net::Buffer& data, bool end_stream) override;

  void onEvent(net::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // For ActiveStream.
  const HttpConfig& config() const { return config_; }
  event::Timer& streamIdleTimer() { return *stream_idle_timer_; }
  // Armed with max_stream_duration when a stream starts (one stream at a time on HTTP/1).
  event::Timer& streamDurationTimer() { return *stream_duration_timer_; }
  // The client's IP as text, formatted once per connection (x-forwarded-for).
  std::string_view peerIp() const { return peer_ip_; }
  network::FilterContext& context() { return ctx_; }
  net::Connection& connection() { return callbacks_->connection(); }
  sluice::http::ServerCodec& codec() { return *codec_; }
  // The stream finished both ways (or was reset): log it, free it, go on
  // with the next pipelined request.
  void onStreamDone(ActiveStream& stream, bool close_connection);
  bool downstreamAboveHighWatermark() const { return above_high_; }
  // For a stream that starts now: the worker's current route tables (into
  // `tables`) and this listener's table in them (null when absent). Looked
  // up by name only when the worker's tables changed since the last stream.
  const sluice::http::RouteConfig* currentRouteConfig(std::shared_ptr<const sluice::http::RouteTables>& tables);

 private:
  void dispatch();
  // A request that never became a stream (malformed, over a limit, too slow):
  // answer `status` directly, log it and close.
  void rejectAndClose(int status, std::string_view details, uint32_t flag);
  void armIdleTimers();
  // Draining with no request in flight: close once idle for the grace.
  void armDrainClose();

  const HttpConfig& config_;
  std::string peer_ip_;
  network::FilterContext& ctx_;
  network::ReadFilterCallbacks* callbacks_ = nullptr;
  std::unique_ptr<sluice::http::ServerCodec> codec_;
  net::Buffer input_;
  std::unique_ptr<ActiveStream> stream_;
  bool downstream_eof_ = false;
  bool closing_ = false;
  bool above_high_ = false;
  bool input_paused_ = false;
  bool draining_ = false;
  std::shared_ptr<const sluice::http::RouteTables> routes_;  // as of the last stream start
  const sluice::http::RouteConfig* route_config_ = nullptr;   // routes_->find(config_.route_config_name)
  event::MonoTime idle_since_{};  // when the last stream ended (or the connection started)
  std::unique_ptr<event::Timer> request_headers_timer_;  // armed at a request's first byte
  std::unique_ptr<event::Timer> idle_timer_;             // armed while no request is in flight
  std::unique_ptr<event::Timer> dispatch_timer_;         // next pipelined request, outside the codec
  // The current stream's idle timeout. One per connection (HTTP/1 has one
  // stream at a time), so re-arming it per request moves no heap entry.
  std::unique_ptr<event::Timer> stream_idle_timer_;
  std::unique_ptr<event::Timer> stream_duration_timer_;
};

}  // namespace sluice::filters::http_cm
