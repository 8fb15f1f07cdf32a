#pragma once
// A real gRPC C++ ADS client for the ADS server's tests: the generated stub
// over a loopback socket, a reader thread feeding a queue, and bounded
// waits for the next response (or for none).

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace sluice::control::testing {

namespace discovery = envoy::service::discovery::v3;

template <class Request, class Response>
class AdsTestClient {
 public:
  using Stream = grpc::ClientReaderWriter<Request, Response>;

  // Opens a state-of-the-world (delta = false) or delta stream to `port`.
  AdsTestClient(int port, bool delta) {
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
    stub_ = discovery::AggregatedDiscoveryService::NewStub(channel_);
    if constexpr (std::is_same_v<Request, discovery::DiscoveryRequest>) {
      stream_ = stub_->StreamAggregatedResources(&context_);
    } else {
      stream_ = stub_->DeltaAggregatedResources(&context_);
    }
    reader_ = std::thread([this] {
      Response r;
      while (stream_->Read(&r)) {
        std::lock_guard lock(mu_);
        responses_.push_back(std::move(r));
        cv_.notify_all();
      }
      std::lock_guard lock(mu_);
      closed_ = true;
      cv_.notify_all();
    });
  }
  ~AdsTestClient() { close(); }

  bool send(const Request& request) { return stream_->Write(request); }

  // The next response within `timeout`, or none.
  std::optional<Response> next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !responses_.empty() || closed_; });
    if (responses_.empty()) return std::nullopt;
    Response r = std::move(responses_.front());
    responses_.pop_front();
    return r;
  }

  // True when the server closed the stream within `timeout`.
  bool waitClosed(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return closed_; });
  }

  // Ends the stream from the client side (idempotent).
  void close() {
    if (!reader_.joinable()) return;
    context_.TryCancel();
    reader_.join();
    stream_->Finish();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<discovery::AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<Stream> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Response> responses_;
  bool closed_ = false;
};

using SotwClient = AdsTestClient<discovery::DiscoveryRequest, discovery::DiscoveryResponse>;
using DeltaClient = AdsTestClient<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>;

}  // namespace sluice::control::testing
