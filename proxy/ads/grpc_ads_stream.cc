// The gRPC C++ transport of the ADS client. The reactor's callbacks run on
// gRPC's threads: each one either starts the next read/write or posts what
// it got into the loop, where AdsClient does all the work.
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <type_traits>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "proxy/ads/ads_stream.h"

namespace sluice::ads {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;

// What a posted callback checks before it calls the events object: false
// once the GrpcAdsStream is gone. Read and written on the loop thread only;
// gRPC threads merely copy the shared_ptr.
struct Liveness {
  bool alive = true;
};

// What differs between the two flavours: the RPC and the event a response
// becomes.
struct SotwCall {
  using Request = DiscoveryRequest;
  using Response = DiscoveryResponse;
  template <class R>
  static void start(AggregatedDiscoveryService::Stub& stub, grpc::ClientContext* ctx, R* reactor) {
    stub.async()->StreamAggregatedResources(ctx, reactor);
  }
  static void deliver(AdsStreamEvents& e, std::unique_ptr<Response> r) { e.onResponse(std::move(r)); }
};

struct DeltaCall {
  using Request = DeltaDiscoveryRequest;
  using Response = DeltaDiscoveryResponse;
  template <class R>
  static void start(AggregatedDiscoveryService::Stub& stub, grpc::ClientContext* ctx, R* reactor) {
    stub.async()->DeltaAggregatedResources(ctx, reactor);
  }
  static void deliver(AdsStreamEvents& e, std::unique_ptr<Response> r) { e.onDeltaResponse(std::move(r)); }
};

template <class Call>
class Reactor final : public grpc::ClientBidiReactor<typename Call::Request, typename Call::Response> {
 public:
  using Request = typename Call::Request;
  using Response = typename Call::Response;

  Reactor(event::Loop& loop, AdsStreamEvents& events, std::shared_ptr<Liveness> live)
      : loop_(loop), events_(events), live_(std::move(live)) {}

  void start(AggregatedDiscoveryService::Stub& stub) {
    Call::start(stub, &context_, this);
    this->StartRead(&incoming_);
    this->StartCall();
  }

  // StartWrite runs outside the lock: gRPC may run OnWriteDone inline.
  // Deque elements keep their address while others are pushed behind them.
  void send(const Request& request) {
    const Request* next = nullptr;
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      queue_.push_back(request);
      if (writing_) return;
      writing_ = true;
      next = &queue_.front();
    }
    this->StartWrite(next);
  }

  void cancel() { context_.TryCancel(); }

  // Blocks until OnDone has run: after it, gRPC holds no pointer to us.
  void awaitDone() {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [this] { return done_; });
  }

  // False when the call failed before the server answered (refused,
  // unreachable, a trailers-only status): OnDone reports that.
  void OnReadInitialMetadataDone(bool ok) override {
    if (!ok) return;
    loop_.post([live = live_, &events = events_] {
      if (live->alive) events.onStreamEstablished();
    });
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream is ending; OnDone follows
    auto response = std::make_unique<Response>();
    response->Swap(&incoming_);
    loop_.post([live = live_, &events = events_, r = std::shared_ptr<Response>(std::move(response))]() mutable {
      if (!live->alive) return;
      Call::deliver(events, std::make_unique<Response>(std::move(*r)));
    });
    this->StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    const Request* next = nullptr;
    {
      std::lock_guard lock(mu_);
      queue_.pop_front();
      if (!ok) finished_ = true;  // the stream broke; OnDone follows and reports it
      if (!ok || queue_.empty()) {
        writing_ = false;
        return;
      }
      next = &queue_.front();
    }
    this->StartWrite(next);
  }

  void OnDone(const grpc::Status& status) override {
    std::string why = "gRPC status " + std::to_string(static_cast<int>(status.error_code()));
    if (!status.error_message().empty()) why += ": " + status.error_message();
    loop_.post([live = live_, &events = events_, why] {
      if (live->alive) events.onStreamClosed(why);
    });
    std::lock_guard lock(mu_);
    finished_ = true;
    done_ = true;
    done_cv_.notify_all();
  }

 private:
  event::Loop& loop_;
  AdsStreamEvents& events_;
  std::shared_ptr<Liveness> live_;
  grpc::ClientContext context_;
  Response incoming_;  // gRPC's read target; swapped out on each read
  std::mutex mu_;      // guards everything below
  std::condition_variable done_cv_;
  std::deque<Request> queue_;  // front() is being written while writing_
  bool writing_ = false;
  bool finished_ = false;
  bool done_ = false;
};

template <class Call>
class GrpcAdsStream final : public AdsStream {
 public:
  GrpcAdsStream(const std::string& address, event::Loop& loop, AdsStreamEvents& events)
      : live_(std::make_shared<Liveness>()) {
    grpc::ChannelArguments args;
    // One channel per stream attempt: no subchannel backoff of gRPC's own
    // stacks up under ours, and a local subchannel pool keeps it that way.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    // A dead control plane behind a live TCP path is noticed in ~40 s.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 64 << 20);
    channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    stub_ = AggregatedDiscoveryService::NewStub(channel_);
    reactor_ = std::make_unique<Reactor<Call>>(loop, events, live_);
    reactor_->start(*stub_);
  }

  ~GrpcAdsStream() override {
    live_->alive = false;  // loop thread: callbacks already posted do nothing
    reactor_->cancel();
    reactor_->awaitDone();
  }

  void send(const DiscoveryRequest& request) override {
    if constexpr (std::is_same_v<typename Call::Request, DiscoveryRequest>) reactor_->send(request);
  }
  void send(const DeltaDiscoveryRequest& request) override {
    if constexpr (std::is_same_v<typename Call::Request, DeltaDiscoveryRequest>) reactor_->send(request);
  }

 private:
  std::shared_ptr<Liveness> live_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
  std::unique_ptr<Reactor<Call>> reactor_;
};

}  // namespace

std::unique_ptr<AdsStream> openGrpcAdsStream(const std::string& address, event::Loop& loop, AdsStreamEvents& events,
                                             bool delta) {
  if (delta) return std::make_unique<GrpcAdsStream<DeltaCall>>(address, loop, events);
  return std::make_unique<GrpcAdsStream<SotwCall>>(address, loop, events);
}

}  // namespace sluice::ads
