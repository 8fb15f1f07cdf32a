#pragma once
// Call: one gRPC call (unary or streaming) from the proxy's main loop, over
// the proxy's own HTTP/2 client: an Http2ConnPool of its own with one
// connection and one stream, as a gRPC health probe has
// (upstream/http2_health_probe.h). h2c by prior knowledge, or TLS with
// ALPN h2. No thread of its own, no lock: everything runs on the loop that
// made it, and the bytes are framed here (request.h, message_reader.h,
// response_status.h).
//
// Each Call is one connection attempt (to each address of a name in turn,
// until one connects): it never reconnects once connected, and a refused
// or failed connection ends it UNAVAILABLE (a failed TLS handshake says
// why); the caller's backoff decides when to try again.
//
// Events, always from a loop callback, never from inside the constructor,
// send() or closeSend(), and never after the Call is destroyed:
//   onCallHeaders()   the response headers arrived (HTTP 200, gRPC): the
//                     server took the call; at most once, before any message;
//   onCallMessage()   each response message, in order;
//   onCallClosed()    once, last: the trailers' status, or what ended the
//                     call first (a reset, the connection, the deadline, a
//                     malformed response).
// A callee may destroy the Call from inside any of them.
//
// Destroying a Call that is still open cancels it: RST_STREAM CANCEL goes
// out at the end of the loop turn, then the connection closes.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ip/address.h"
#include "proxy/event/loop.h"
#include "proxy/grpc/message_reader.h"
#include "proxy/grpc/name_resolver.h"
#include "proxy/grpc/request.h"
#include "proxy/grpc/status.h"
#include "proxy/tls/tls_context.h"
#include "proxy/upstream/http2_conn_pool.h"

namespace sluice::grpc {

struct CallTarget {
  // Where to connect: "host:port", "1.2.3.4:port" or "[::1]:port". A name
  // is resolved first (name_resolver.h), without blocking the loop.
  std::string address;
  RequestHead head;  // path, metadata, timeout; authority and scheme are filled in
  // Null: plaintext (h2c, prior knowledge). Else TLS from this context:
  // its verification, SNI and ALPN (a gRPC server wants h2 offered).
  std::shared_ptr<const tls::ClientTlsContext> tls;
  // A response message larger than this ends the call RESOURCE_EXHAUSTED.
  size_t max_message_bytes = 4 << 20;
  std::chrono::milliseconds connect_timeout{10000};
  // Zero: no keepalive PINGs. Else a PING that often while the call is
  // open, and the call fails UNAVAILABLE when its ack is keepalive_timeout late.
  std::chrono::milliseconds keepalive_interval{0};
  std::chrono::milliseconds keepalive_timeout{10000};
};

class CallEvents {
 public:
  virtual void onCallHeaders() = 0;
  virtual void onCallMessage(std::string message) = 0;
  virtual void onCallClosed(const Status& status) = 0;

 protected:
  ~CallEvents() = default;
};

class Call final : private upstream::PoolCallbacks, private upstream::StreamCallbacks, private http::MessageDecoder {
 public:
  // Starts connecting. head.timeout, when set, is also enforced here:
  // DEADLINE_EXCEEDED when the call is not over by then.
  Call(event::Loop& loop, CallTarget target, CallEvents& events);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Queues one request message; messages leave in order, the first ones
  // with the request headers once the connection is up. Dropped after
  // closeSend() or once the call is over.
  void send(std::string_view message);
  // No more request messages (END_STREAM): a unary call sends its one
  // message, then this.
  void closeSend();

 private:
  // PoolCallbacks, StreamCallbacks.
  void onPoolReady(upstream::UpstreamStream& stream) override;
  void onPoolFailure(upstream::StreamResetReason reason, std::string_view detail) override;
  void onStreamReset(upstream::StreamResetReason reason, std::string_view detail) override;
  void onAboveWriteBufferHighWatermark() override {}
  void onBelowWriteBufferLowWatermark() override {}
  // MessageDecoder: the response.
  void decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  void decodeData(net::Buffer& data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap& trailers) override;

  // Ends the call with `status`: lets go of the stream, then reports, now
  // or (inside one of our own entry points) from a zero timer.
  void connectNext();  // to addresses_[next_address_]
  void connect(const ip::Address& to);
  void finish(Status status, bool response_complete = false);
  void report();
  void letGo(bool response_complete);

  event::Loop& loop_;
  CallTarget target_;
  CallEvents& events_;
  // False once the Call is destroyed: a callee that destroyed it inside an
  // event is noticed before anything else is touched.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<NameResolution> resolution_;  // set when the target is a name
  std::unique_ptr<event::Timer> resolve_timer_;
  std::vector<ip::Address> addresses_;  // tried in turn until one connects
  size_t next_address_ = 0;
  std::string connected_to_;  // the address being tried, for messages
  std::unique_ptr<upstream::Http2ConnPool> pool_;
  upstream::PendingStream* pending_ = nullptr;
  upstream::UpstreamStream* stream_ = nullptr;
  // The connection's transport, owned by the pool's connection: read only
  // while the pool reports that connection's failure, when it still lives.
  const net::TransportSocket* transport_ = nullptr;
  net::Buffer unsent_;  // request bytes waiting for the stream
  MessageReader reader_;
  std::unique_ptr<event::Timer> deadline_;
  std::unique_ptr<event::Timer> report_timer_;
  std::optional<Status> closing_;  // the status to report
  int in_entry_ = 0;               // inside the constructor, send() or closeSend()
  bool send_closed_ = false;
  bool headers_seen_ = false;
  bool finished_ = false;
};

}  // namespace sluice::grpc
