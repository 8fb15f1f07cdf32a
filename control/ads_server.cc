#include "control/ads_server.h"

#include <grpcpp/grpcpp.h>

#include "control/ads_hub.h"
#include "control/ads_metrics.h"
#include "control/delta_stream.h"
#include "control/sotw_stream.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace sluice::control {

namespace {

namespace discovery = envoy::service::discovery::v3;

using RawAdsService = discovery::AggregatedDiscoveryService::WithRawCallbackMethod_StreamAggregatedResources<
    discovery::AggregatedDiscoveryService::WithRawCallbackMethod_DeltaAggregatedResources<
        discovery::AggregatedDiscoveryService::Service>>;

// Each call gets a reactor that deletes itself after OnDone (AdsStream).
// Raw methods: the streams read and write bytes, so that a response body
// serialized once goes out on every stream (control/ads_shared_response.h).
class AdsService final : public RawAdsService {
 public:
  explicit AdsService(AdsHub& hub) : hub_(hub) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StreamAggregatedResources(
      grpc::CallbackServerContext* context) override {
    return new SotwStream(hub_, context);
  }
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* DeltaAggregatedResources(
      grpc::CallbackServerContext* context) override {
    return new DeltaStream(hub_, context);
  }

 private:
  AdsHub& hub_;
};

}  // namespace

struct AdsServer::Impl {
  explicit Impl(Options o)
      : options(std::move(o)), metrics(options.metrics), hub(options.match, metrics), service(hub) {}

  Options options;
  AdsMetrics metrics;
  AdsHub hub;
  AdsService service;
  std::unique_ptr<grpc::Server> server;  // last: goes first
  int port = 0;
};

AdsServer::AdsServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

AdsServer::~AdsServer() { shutdown(); }

bool AdsServer::start(std::string& error) {
  if (impl_->server) {
    error = "ADS server already started";
    return false;
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(impl_->options.address, grpc::InsecureServerCredentials(), &impl_->port);
  // gRPC binds with SO_REUSEPORT unless told not to: a second control plane
  // started on the same address would take half the proxies' streams
  // without a word. It must fail to start instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&impl_->service);
  // Proxies keep their ADS stream for hours and may ping it to keep NATs
  // and load balancers from dropping it.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) {
    impl_->server.reset();
    error = "ADS server: cannot listen on " + impl_->options.address;
    return false;
  }
  return true;
}

int AdsServer::port() const { return impl_->port; }

void AdsServer::shutdown() {
  if (!impl_->server) return;
  // Streams are ended first with UNAVAILABLE (a proxy reconnects, to this
  // server after a restart or to another), then the server stops.
  impl_->hub.closeAll(std::chrono::seconds(5));
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  impl_->hub.closeAll(std::chrono::seconds(5));  // any that arrived meanwhile
  impl_->server->Wait();
  impl_->server.reset();
}

void AdsServer::publish(std::shared_ptr<const GroupSnapshot> snapshot) { impl_->hub.publish(std::move(snapshot)); }

void AdsServer::rematch() { impl_->hub.rematch(); }

std::vector<ProxyStatus> AdsServer::status() const { return impl_->hub.status(); }

}  // namespace sluice::control
