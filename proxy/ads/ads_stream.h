#pragma once
// One ADS stream (envoy.service.discovery.v3.AggregatedDiscoveryService/
// StreamAggregatedResources, or DeltaAggregatedResources for incremental
// xDS) as the client's main thread sees it: send() requests, receive
// responses and the end of the stream as calls on AdsStreamEvents, always
// on the loop's thread. A stream is of one flavour for its whole life: it
// carries only that flavour's requests and reports only its responses.
//
// The interface is the test seam at the process boundary; GrpcAdsStream is
// the real one. Its transport is one gRPC call (proxy/grpc/call.h) over the
// proxy's own HTTP/2 client on the same loop: no thread of its own, and
// every event comes from that loop's own I/O and timers.

#include <memory>
#include <string>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "proxy/event/loop.h"

namespace sluice::ads {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// Called on the loop thread, never after the stream object is destroyed.
class AdsStreamEvents {
 public:
  // The server accepted the stream: its initial metadata arrived (before
  // any response, or with the first one when a server sends it only then).
  // At most once per stream, and before onStreamClosed.
  virtual void onStreamEstablished() = 0;
  virtual void onResponse(std::unique_ptr<DiscoveryResponse> response) = 0;
  virtual void onDeltaResponse(std::unique_ptr<DeltaDiscoveryResponse> response) = 0;
  // The stream ended (refused, reset, or closed by the server); `why` is
  // the gRPC status for the log. No call follows on this stream.
  virtual void onStreamClosed(const std::string& why) = 0;

 protected:
  ~AdsStreamEvents() = default;
};

class AdsStream {
 public:
  // Cancels the stream if it is still open; the transport makes no
  // further call on the events object.
  virtual ~AdsStream() = default;
  // Queues a request; requests go out in order. Loop thread.
  // A state-of-the-world stream takes the first, a delta stream the
  // second; the other flavour's request is a caller's bug, dropped.
  virtual void send(const DiscoveryRequest& request) = 0;
  virtual void send(const DeltaDiscoveryRequest& request) = 0;
};

// Opens a stream to `address` (host:port, plaintext h2c; a name is resolved
// on the loop first) over a connection of its own, so that each attempt
// makes its own connection and the client's backoff alone decides when to
// try again. `delta`: DeltaAggregatedResources. onStreamClosed() says
// "CODE: message" (gRPC's status names: "UNAVAILABLE: cannot connect ...").
// Destroying the stream cancels it (RST_STREAM CANCEL).
std::unique_ptr<AdsStream> openGrpcAdsStream(const std::string& address, event::Loop& loop, AdsStreamEvents& events,
                                             bool delta = false);

}  // namespace sluice::ads
