#pragma once
// HttpConnPool: how the router reaches a host. It asks a pool for a stream,
// never for a connection, so HTTP/1 (one request per connection at a time)
// and HTTP/2 (many streams on one connection) look the same to it.
//
// One pool per worker, cluster, host and protocol; the worker's
// ClusterManager owns it and keeps it across config swaps. Everything runs on
// that worker's loop thread: every call, and every callback, which the pool
// raises from its own I/O events (or from inside newStream(), see there).
//
// A request's life:
//   1. newStream(response, stream_callbacks, pool_callbacks): the caller's
//      objects must stay alive until it hears onPoolFailure, or cancels, or
//      ends the stream (release()/reset()).
//   2. onPoolReady(stream): the stream is bound to a connection; the caller
//      encodes its request on stream.encoder(). The response arrives on the
//      `response` decoder. Or onPoolFailure(reason): no stream was made
//      (ConnectFailure, ConnectTimeout, Overflow).
//   3. While the stream lives, StreamCallbacks::onStreamReset(reason) says it
//      ended before the response completed; the stream is then gone.
//      Otherwise the caller ends it: release() after a complete exchange,
//      reset() to abandon it.
//
// Ownership: the pool owns its connections and streams; the caller holds
// non-owning references (PendingStream*, UpstreamStream&) for the times said
// above. No callback destroys the pool; a connection that closes is deleted
// at the end of the loop turn (deferred deletion).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "config/model.h"
#include "proxy/http/codec.h"
#include "proxy/tls/certificate_provider.h"
#include "proxy/upstream/cluster_shared.h"
#include "proxy/upstream/host.h"
#include "proxy/upstream/stream_reset_reason.h"
#include "proxy/upstream/upstream_transport.h"

namespace sluice::upstream {

class ProtocolSwitch;  // protocol_switch.h

// The wire protocol a pool speaks to its host. Auto: HTTP/2 or HTTP/1.1 by
// what a TLS host picks by ALPN (AutoConnPool).
enum class Protocol : uint8_t { Http1, Http2, Auto };
inline constexpr size_t kProtocolCount = 3;

// The pool a cluster's requests use: its `protocol`, where auto is Auto on
// TLS and Http1 on plaintext (no ALPN to negotiate with, as in Envoy).
inline Protocol poolProtocol(const config::ClusterConfig& cluster) {
  switch (cluster.protocol) {
    case config::UpstreamProtocol::Http1:
      return Protocol::Http1;
    case config::UpstreamProtocol::Http2:
      return Protocol::Http2;
    case config::UpstreamProtocol::Auto:
      return cluster.tls ? Protocol::Auto : Protocol::Http1;
  }
  return Protocol::Http1;
}

// What a live stream hears besides its response. Never raised after the
// stream ended (release(), reset(), or an earlier onStreamReset()).
class StreamCallbacks {
 public:
  // The stream ended before its response completed (ConnectionTermination,
  // ProtocolError, RemoteReset, RefusedStream, ...). `detail` is for logs and
  // local replies and lives only during the call. The stream reference is
  // dead from here on: do not release() or reset() it.
  virtual void onStreamReset(StreamResetReason reason, std::string_view detail) = 0;
  // The connection's write buffer crossed its high / fell below its low
  // watermark: stop / resume feeding the request body.
  virtual void onAboveWriteBufferHighWatermark() = 0;
  virtual void onBelowWriteBufferLowWatermark() = 0;

 protected:
  ~StreamCallbacks() = default;
};

// One request/response exchange with the host, valid from onPoolReady until
// it ends (release(), reset(), or onStreamReset()).
class UpstreamStream {
 public:
  // Encodes the request: headers, data*, trailers?, in that order. Encoding
  // may raise onStreamReset() (the connection failed while writing).
  virtual http::MessageEncoder& encoder() = 0;
  // Pauses / resumes the response (downstream backpressure).
  virtual void readDisable(bool disable) = 0;
  // The response completed and the whole request was sent: the stream ends
  // cleanly (HTTP/1: the connection goes back to the pool if it is reusable).
  virtual void release() = 0;
  // Abandons the exchange (HTTP/1: closes the connection). No callback follows.
  virtual void reset() = 0;

 protected:
  ~UpstreamStream() = default;
};

class PoolCallbacks {
 public:
  // A stream is ready; may run inside newStream() when a connection was idle.
  virtual void onPoolReady(UpstreamStream& stream) = 0;
  // No stream will come: ConnectFailure, ConnectTimeout or Overflow. May run
  // inside newStream() (Overflow). `detail` lives only during the call.
  virtual void onPoolFailure(StreamResetReason reason, std::string_view detail) = 0;

 protected:
  ~PoolCallbacks() = default;
};

// A request waiting for a connection.
class PendingStream {
 public:
  // The caller goes away first: no callback will come, and the queue slot and
  // pending-request breaker slot are given back. A connection being made for
  // it keeps connecting and serves the next request. The handle is dead after.
  virtual void cancel() = 0;

 protected:
  ~PendingStream() = default;
};

struct PoolSettings {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{60000};
  uint32_t buffer_limit = 1024 * 1024;
  // Cluster-wide breakers (all workers): connections count against the
  // normal group's max_connections, waiting requests against their routing
  // priority's max_pending_requests. Null: no cluster-wide limits.
  ClusterShared* shared = nullptr;
  config::CircuitBreakersConfig breakers;
  // The worker's view of the cluster's TLS context; null: plain TCP.
  std::shared_ptr<tls::CertificateProvider::View> tls;
  config::Http2Settings http2;  // for HTTP/2 pools
  // Set: makes each connection's transport instead of `tls` (a health
  // probe's pool uses its checker's). Called as a connection starts.
  std::function<std::unique_ptr<net::TransportSocket>()> transport;
  // Set (the pools inside an AutoConnPool): hears each new connection's
  // negotiated ALPN as its handshake ends, and takes the connection (and
  // the pool's waiting requests) when the host picked the other protocol.
  ProtocolSwitch* protocol_switch = nullptr;

  std::unique_ptr<net::TransportSocket> newTransport() const {
    return transport ? transport() : makeUpstreamTransport(tls.get());
  }
};

class HttpConnPool {
 public:
  virtual ~HttpConnPool() = default;

  virtual Protocol protocol() const = 0;

  // Asks for a stream. Returns null when onPoolReady or onPoolFailure already
  // ran (inside this call); else a handle valid until one of them runs or the
  // caller cancels. No allocation when a connection is idle.
  virtual PendingStream* newStream(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                                   PoolCallbacks& callbacks, RoutingPriority priority) = 0;

  // A reload changed the host's settings (same address) or the cluster's
  // stats block. Streams in flight finish on what they started with.
  virtual void update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats) = 0;
};

}  // namespace sluice::upstream
