#pragma once
// ConnectionManager: the `http` network filter. Owns the server codec of one
// downstream connection (HTTP/1 or HTTP/2, chosen by config, ALPN or the
// client's first bytes) and the streams it yields, held in an intrusive list
// (HTTP/2 runs many at once; HTTP/1's codec yields one at a time, holding
// pipelined requests until the current response completes).
// Worker thread only.

#include <boost/intrusive/list.hpp>

#include <memory>

#include "proxy/http/active_stream.h"
#include "proxy/http/connection_manager_config.h"
#include "proxy/event/timer.h"
#include "proxy/http/codec.h"
#include "proxy/http/route_tables.h"
#include "proxy/net/connection.h"
#include "proxy/net/filter.h"

namespace sluice::http {

class ConnectionManager final : public net::NetworkFilter,
                                public ServerCodecCallbacks,
                                public CodecOutput,
                                public net::ConnectionCallbacks {
 public:
  ConnectionManager(const ConnectionManagerConfig& config, net::FilterContext& ctx);
  ~ConnectionManager() override;

  void initialize(net::ReadFilterCallbacks& callbacks) override;
  net::FilterStatus onData(net::Buffer& data, bool end_stream) override;
  // The next response says `Connection: close`; an idle connection closes
  // once it has been idle for kDrainIdleGrace (see the .cc).
  void onDrain() override;
  // The codec gives up what is still open (HTTP/2: GOAWAY naming the last
  // stream taken); the listener then closes the connection.
  void onDrainTimeout() override;

  // The overload manager's disable_keepalive: as a drain, without the drain
  // timeout (HTTP/1: this response says `Connection: close`; HTTP/2: GOAWAY,
  // streams in flight finish). Once per connection.
  void disableKeepalive();

  MessageDecoder& onNewRequest(MessageEncoder& response) override;
  void onStreamReset(MessageEncoder& response, StreamResetReason reason) override;
  void onStreamWatermark(MessageEncoder& response, bool above) override;
  void writeBytes(net::Buffer& data, bool end_stream) override;
  void readDisable(bool disable) override;
  bool aboveWriteBufferHighWatermark() const override;
  void closeConnection() override;

  void onEvent(net::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // For ActiveStream.
  const ConnectionManagerConfig& config() const { return config_; }
  // The client's IP as text, formatted once per connection (x-forwarded-for).
  std::string_view peerIp() const { return peer_ip_; }
  net::FilterContext& context() { return ctx_; }
  net::Connection& connection() { return callbacks_->connection(); }
  ServerCodec& codec() { return *codec_; }
  bool http2() const { return multiplexed_; }
  // The stream finished both ways (or was reset): unlink it, log it, free
  // it (deferred), go on with the next pipelined request.
  void onStreamDone(ActiveStream& stream, bool close_connection);
  bool downstreamAboveHighWatermark() const { return above_high_; }
  // For a stream that starts now: the worker's current route tables (into
  // `tables`) and this listener's table in them (null when absent). Looked
  // up by name only when the worker's tables changed since the last stream.
  const RouteConfig* currentRouteConfig(std::shared_ptr<const RouteTables>& tables);

 private:
  void dispatch(net::Buffer& data);
  // By config, ALPN, or the client's first bytes (the HTTP/2 preface);
  // false while those are a prefix of the preface.
  bool chooseCodec(const net::Buffer& data);
  // A request that never became a stream (malformed, over a limit, too slow):
  // answer `status` directly, log it and close.
  void rejectAndClose(int status, std::string_view details, uint32_t flag);
  void armIdleTimers();
  // Draining with no request in flight: close once idle for the grace.
  void armDrainClose();
  // The stream `response` names, or null (gone already). Linear: only on errors and resets.
  ActiveStream* findStream(const MessageEncoder* response);
  // Unlinks a stream, records its end and frees it at the end of the turn.
  void releaseStream(ActiveStream& stream);

  const ConnectionManagerConfig& config_;
  std::string peer_ip_;
  net::FilterContext& ctx_;
  net::ReadFilterCallbacks* callbacks_ = nullptr;
  std::unique_ptr<ServerCodec> codec_;
  // Streams in flight, oldest first. The list owns them: a stream is
  // unlinked and handed to deferred deletion when it is done.
  boost::intrusive::list<ActiveStream, boost::intrusive::constant_time_size<false>> streams_;
  bool downstream_eof_ = false;
  bool closing_ = false;
  bool above_high_ = false;
  bool draining_ = false;
  bool multiplexed_ = false;     // HTTP/2: streams run at once; no HTTP/1 request-head timers
  bool dispatching_ = false;     // inside codec_->dispatch()
  bool partial_request_ = false;  // the last read ended inside a request's head
  std::shared_ptr<const RouteTables> routes_;  // as of the last stream start
  const RouteConfig* route_config_ = nullptr;   // routes_->find(config_.route_config_name)
  event::MonoTime idle_since_{};  // when the last stream ended (or the connection started)
  std::unique_ptr<event::Timer> request_headers_timer_;  // armed at a request's first byte
  std::unique_ptr<event::Timer> idle_timer_;             // armed while no request is in flight
  std::unique_ptr<event::Timer> dispatch_timer_;         // next pipelined request, outside the codec
};

}  // namespace sluice::http
