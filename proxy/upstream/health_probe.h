#pragma once
// HealthProbe: one active HTTP/1.1 or TCP health check attempt against one
// host, over one net::Connection with the cluster's transport (HTTP/2 and
// gRPC checks: http2_health_probe.h). The transport comes from
// the same factory as data connections (upstream_transport.h), so a probe
// of a `tls:` cluster presents the cluster's client certificate and checks
// the upstream's chain, SNI, SANs and SPIFFE ID exactly as a request would.
//
// - HTTP: once connected (for TLS: once the handshake is done) the request
//   is encoded by the HTTP/1 client codec, and the reply parsed by it (1xx
//   interim responses are skipped). The verdict comes with the response's
//   header block: a status in expected_statuses passes; the body is not
//   awaited.
// - TCP: `send` is written once connected. The probe passes when `expect`
//   appears in what comes back (the search spans reads; a reply that has
//   not matched within 64 KiB fails), or as soon as it is connected when
//   `expect` is empty (`send` still leaves before the connection closes).
// - Anything else fails: connect refused, reset, a failed TLS handshake
//   (unknown CA, name or SPIFFE ID mismatch), an upstream that refuses our
//   client certificate (with TLS 1.3 its alert arrives after our side of the
//   handshake, as a reset), EOF before a verdict, a malformed reply. The
//   whole attempt, connect and handshake included, is bounded by `timeout`
//   (Timeout).
//
// Thread: the loop's. The verdict reaches onProbeDone() exactly once, from a
// loop callback (never from the constructor), unless cancel() came first.
// By then the probe has let its connection go (closed, or flushing its last
// TCP bytes on its own) and it touches nothing after the call, so the callee
// may hand it to Loop::deferredDelete from there. Destroy a probe only
// through Loop::deferredDelete: its own callbacks may be on the stack.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/model.h"
#include "proxy/event/loop.h"
#include "proxy/http/codec.h"
#include "ip/address.h"
#include "proxy/net/connection.h"

namespace sluice::upstream {

// What a probe sends and what passes. Built once per checker; probes read it
// until they end.
struct ProbeSpec {
  // `cfg` must have http, tcp or grpc set. host_header_default is the HTTP
  // Host (gRPC :authority) when the config leaves it empty (the cluster name).
  static ProbeSpec fromConfig(const config::HealthCheckConfig& cfg, std::string_view host_header_default);

  // Tcp, HTTP/1.1 (HealthProbe); HTTP/2 and gRPC (Http2HealthProbe).
  enum class Kind { Tcp, Http1, Http2, Grpc };

  event::Duration timeout{0};
  Kind kind = Kind::Tcp;
  // HTTP: the GET, pseudo-headers included, and the statuses that pass.
  // gRPC: the POST of grpc.health.v1.Health/Check.
  http::HeaderMap request;
  std::vector<std::pair<int, int>> expected_statuses;
  std::string grpc_request;  // gRPC: the framed HealthCheckRequest
  // TCP: bytes written once connected; bytes that must come back (empty: none awaited).
  std::string send;
  std::string expect;
};

enum class ProbeResult { Pass, Fail, Timeout };

// One check attempt in flight, whichever its protocol. Destroy it only
// through Loop::deferredDelete: its own callbacks may be on the stack.
class Probe : public event::DeferredDeletable {
 public:
  // Ends the attempt without a verdict: lets its connection go, stops its
  // timer, and calls nothing back. Idempotent.
  virtual void cancel() = 0;
};

class HealthProbeCallbacks {
 public:
  virtual void onProbeDone(ProbeResult result) = 0;

 protected:
  ~HealthProbeCallbacks() = default;
};

class HealthProbe final : public Probe,
                          private net::ConnectionCallbacks,
                          private net::ReadHandler,
                          private http::CodecOutput,
                          private http::ClientCodecCallbacks,
                          private http::MessageDecoder {
 public:
  // Starts connecting to `host` over `transport`. `spec` and `callbacks`
  // must outlive the probe's verdict or its cancel().
  HealthProbe(event::Loop& loop, const ProbeSpec& spec, const ip::Address& host,
              std::unique_ptr<net::TransportSocket> transport, HealthProbeCallbacks& callbacks);
  ~HealthProbe() override;
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;

  void cancel() override;

 private:
  // net::ConnectionCallbacks, net::ReadHandler.
  void onEvent(net::ConnectionEvent event) override;
  void onRead(net::Buffer& data, bool end_stream) override;
  // http::CodecOutput, http::ClientCodecCallbacks, http::MessageDecoder.
  void writeBytes(net::Buffer& data, bool end_stream) override;
  void onResponseError(std::string_view) override {}  // dispatch() returns it too
  void decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  void decodeData(net::Buffer& data, bool end_stream) override { data.clear(); }
  void decodeTrailers(http::HeaderMap&) override {}

  void readResponse(net::Buffer& data, bool end_stream);
  void readTcpReply(net::Buffer& data, bool end_stream);
  // Lets the connection go and reports. Callers return right after: the
  // callee may have queued this probe for deletion.
  void finish(ProbeResult result);
  void release(net::CloseType type);

  const ProbeSpec& spec_;
  HealthProbeCallbacks& callbacks_;
  std::unique_ptr<net::Connection> conn_;
  std::unique_ptr<http::ClientCodec> codec_;  // HTTP only
  std::unique_ptr<event::Timer> timeout_;
  std::optional<int> status_;  // HTTP: the final response's status, once its headers are in
  std::string reply_;          // TCP: what came back so far
  bool done_ = false;
};

}  // namespace sluice::upstream
