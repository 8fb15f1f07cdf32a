// The ADS client's transport: one gRPC call (grpc/call.h) over the proxy's
// own HTTP/2 client on the main loop. Requests are serialized here and
// responses parsed here; the call moves bytes.
#include <type_traits>

#include "proxy/ads/ads_stream.h"
#include "proxy/grpc/call.h"

namespace sluice::ads {
namespace {

// A push of every resource of a large mesh is one message: generous, but a
// bound.
constexpr size_t kMaxResponseBytes = 64 << 20;
// A dead control plane behind a live TCP path is noticed in ~40 s.
constexpr std::chrono::milliseconds kKeepaliveInterval{30000};
constexpr std::chrono::milliseconds kKeepaliveTimeout{10000};
constexpr std::chrono::milliseconds kConnectTimeout{10000};

// What differs between the two flavours: the method and the event a
// response becomes.
struct SotwCall {
  using Request = DiscoveryRequest;
  using Response = DiscoveryResponse;
  static constexpr const char* kPath =
      "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
  static void deliver(AdsStreamEvents& e, std::unique_ptr<Response> r) { e.onResponse(std::move(r)); }
};

struct DeltaCall {
  using Request = DeltaDiscoveryRequest;
  using Response = DeltaDiscoveryResponse;
  static constexpr const char* kPath =
      "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";
  static void deliver(AdsStreamEvents& e, std::unique_ptr<Response> r) { e.onDeltaResponse(std::move(r)); }
};

template <class Flavour>
class GrpcAdsStream final : public AdsStream, private grpc::CallEvents {
 public:
  GrpcAdsStream(const std::string& address, event::Loop& loop, AdsStreamEvents& events) : events_(events) {
    grpc::CallTarget target;
    target.address = address;
    target.head.path = Flavour::kPath;
    target.max_message_bytes = kMaxResponseBytes;
    target.connect_timeout = kConnectTimeout;
    target.keepalive_interval = kKeepaliveInterval;
    target.keepalive_timeout = kKeepaliveTimeout;
    call_ = std::make_unique<grpc::Call>(loop, std::move(target), static_cast<grpc::CallEvents&>(*this));
  }

  // The call's destructor cancels it; it makes no call on us after.
  ~GrpcAdsStream() override = default;

  void send(const DiscoveryRequest& request) override {
    if constexpr (std::is_same_v<typename Flavour::Request, DiscoveryRequest>)
      if (call_) call_->send(request.SerializeAsString());
  }
  void send(const DeltaDiscoveryRequest& request) override {
    if constexpr (std::is_same_v<typename Flavour::Request, DeltaDiscoveryRequest>)
      if (call_) call_->send(request.SerializeAsString());
  }

 private:
  void onCallHeaders() override { events_.onStreamEstablished(); }

  void onCallMessage(std::string message) override {
    auto response = std::make_unique<typename Flavour::Response>();
    if (!response->ParseFromString(message)) {
      // The stream cannot be trusted past a message it cannot read: end it
      // INTERNAL, and let the client reconnect.
      call_.reset();
      events_.onStreamClosed("INTERNAL: cannot parse a " + response->GetTypeName() + " of " +
                             std::to_string(message.size()) + " bytes");
      return;
    }
    Flavour::deliver(events_, std::move(response));
  }

  void onCallClosed(const grpc::Status& status) override { events_.onStreamClosed(status.text()); }

  AdsStreamEvents& events_;
  std::unique_ptr<grpc::Call> call_;  // null once we ended it ourselves
};

}  // namespace

std::unique_ptr<AdsStream> openGrpcAdsStream(const std::string& address, event::Loop& loop, AdsStreamEvents& events,
                                             bool delta) {
  if (delta) return std::make_unique<GrpcAdsStream<DeltaCall>>(address, loop, events);
  return std::make_unique<GrpcAdsStream<SotwCall>>(address, loop, events);
}

}  // namespace sluice::ads
