#pragma once
// Http2HealthProbe: one HTTP/2 or gRPC health check attempt against one
// host. It speaks through an Http2ConnPool of its own (one connection, one
// stream), so a check goes over the same nghttp2 client session as the
// proxy's requests: prior knowledge on plaintext, h2 by ALPN over the
// cluster's TLS (the checker's transport).
//
// - HTTP/2 (`http: {codec: http2}`): a GET; the verdict comes with the
//   response's header block, a status in expected_statuses passes.
// - gRPC (`grpc:`): grpc.health.v1.Health/Check with the framed
//   HealthCheckRequest. It passes only on HTTP 200, grpc-status 0 and a
//   HealthCheckResponse whose status is SERVING; a trailers-only reply is a
//   failure unless it says all that, which it cannot (no message).
// - Refusal, a failed handshake, a reset stream, GOAWAY before the answer,
//   a malformed reply, or `timeout` (connect and handshake included) fail.
//
// Thread and lifetime: as HealthProbe (health_probe.h). The verdict reaches
// onProbeDone() once, from a loop callback, unless cancel() came first.

#include <memory>
#include <optional>
#include <string>

#include "proxy/event/loop.h"
#include "proxy/upstream/health_probe.h"
#include "proxy/upstream/http2_conn_pool.h"

namespace sluice::upstream {

class Http2HealthProbe final : public Probe,
                               private PoolCallbacks,
                               private StreamCallbacks,
                               private http::MessageDecoder {
 public:
  // Starts connecting to `host` over `transport`. `spec` (kind Http2 or
  // Grpc) and `callbacks` must outlive the verdict or cancel().
  Http2HealthProbe(event::Loop& loop, const ProbeSpec& spec, const ip::Address& host,
                   std::unique_ptr<net::TransportSocket> transport, HealthProbeCallbacks& callbacks);
  ~Http2HealthProbe() override;

  void cancel() override;

 private:
  // PoolCallbacks, StreamCallbacks.
  void onPoolReady(UpstreamStream& stream) override;
  void onPoolFailure(StreamResetReason reason, std::string_view detail) override;
  void onStreamReset(StreamResetReason reason, std::string_view detail) override;
  void onAboveWriteBufferHighWatermark() override {}
  void onBelowWriteBufferLowWatermark() override {}
  // MessageDecoder: the response.
  void decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  void decodeData(net::Buffer& data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap& trailers) override;

  ProbeResult grpcVerdict(const http::HeaderMap& trailers) const;
  // Ends the stream (no callback follows) and reports. Callers return
  // right after: the callee may have queued this probe for deletion.
  void finish(ProbeResult result);
  void letGo();

  const ProbeSpec& spec_;
  HealthProbeCallbacks& callbacks_;
  std::unique_ptr<net::TransportSocket> transport_;  // the pool's one connection takes it
  std::unique_ptr<event::Timer> timeout_;
  std::unique_ptr<Http2ConnPool> pool_;
  PendingStream* pending_ = nullptr;
  UpstreamStream* stream_ = nullptr;
  std::optional<ProbeResult> early_;  // a verdict reached inside the constructor, reported from the loop
  std::string body_;                  // gRPC: the response message so far
  bool starting_ = true;  // inside the constructor's newStream()
  bool done_ = false;
};

}  // namespace sluice::upstream
