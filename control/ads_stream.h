#pragma once
// What the state-of-the-world and delta streams share: one gRPC callback
// reactor per stream, one read outstanding at a time, a queue of responses
// with one write in flight, the stream's node and group, and its end.
//
// The reactor is raw (ByteBuffer in and out): a request is parsed here, and
// a response goes out as the bytes of a SharedResponse, serialized once for
// every stream that sends it, followed by this stream's nonce
// (control/ads_shared_response.h). Initial metadata goes out as soon as the
// stream starts, so a client sees the stream established before there is
// anything to send it (a node with no group yet, a group with no snapshot).
//
// Threads: gRPC's callback threads run the reactions; publish() and
// status() come from any thread through the hub (control/ads_hub.h). The
// protocol state of a stream (the subclass's) is guarded by mu_; the
// subclass's handle() and adopt() run under it and only queue responses;
// flush() starts the writes outside it.

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/server_callback.h>

#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "control/ads_hub.h"
#include "control/ads_metrics.h"
#include "control/ads_shared_response.h"

namespace sluice::control {

template <class Request>
class AdsStream : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>, public AdsStreamHandle {
 public:
  void flush() final {
    const grpc::ByteBuffer* next = nullptr;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mu_);
      if (writing_ || finished_) return;
      if (finish_) {
        finished_ = true;
        finish = *finish_;
      } else if (!queue_.empty()) {
        inflight_ = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        next = &inflight_->bytes;
      } else {
        return;
      }
    }
    if (next) {
      this->StartWrite(next);
    } else {
      this->Finish(*finish);
    }
  }

  void close() final { end(grpc::Status(grpc::StatusCode::UNAVAILABLE, "sluice-control is shutting down")); }

 protected:
  AdsStream(AdsHub& hub, grpc::CallbackServerContext* context, bool delta)
      : hub_(hub), peer_(context->peer()), delta_(delta), connected_at_(std::chrono::system_clock::now()) {
    hub_.add(this);
    this->StartSendInitialMetadata();
    this->StartRead(&incoming_);
  }

  // One request, under mu_ (the first one's node is already in node_).
  virtual void handle(const Request& request) = 0;

  // Queues `response` with `nonce` (under mu_). With `supersede`, a
  // response of the same type still waiting in the queue is dropped first:
  // in state of the world each response is the whole state of its type, so
  // only the newest needs to go (one already being written goes anyway).
  void queue(std::shared_ptr<const SharedResponse> response, std::string_view nonce,
             std::chrono::steady_clock::time_point published, bool supersede) {
    if (supersede) {
      std::erase_if(queue_, [&](const Pending& p) { return p.response->typeUrl() == response->typeUrl(); });
    }
    grpc::ByteBuffer bytes = response->withNonce(nonce);
    queue_.push_back(Pending{std::move(response), std::move(bytes), published});
  }

  std::string nextNonce() { return std::to_string(++nonce_counter_); }

  // The stream's part of ProxyStatus (under mu_).
  ProxyStatus baseStatus() const {
    ProxyStatus s;
    s.node_id = node_.id();
    s.node_cluster = node_.cluster();
    s.group = group_;
    s.peer = peer_;
    s.delta = delta_;
    s.connected_at = connected_at_;
    return s;
  }

  AdsHub& hub_;
  mutable std::mutex mu_;
  envoy::config::core::v3::Node node_;
  std::string group_;

 private:
  struct Pending {
    std::shared_ptr<const SharedResponse> response;
    grpc::ByteBuffer bytes;  // the response's body and this stream's nonce
    std::chrono::steady_clock::time_point published;
  };

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed, or the call is cancelled
      end(grpc::Status::OK);
      return;
    }
    bool parsed;
    {
      grpc::ProtoBufferReader reader(&incoming_);
      parsed = request_.ParseFromZeroCopyStream(&reader);
    }
    incoming_.Clear();
    if (!parsed) {
      end(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the request does not parse"));
      return;
    }
    const bool first = !joined_;
    {
      std::lock_guard lock(mu_);
      if (first) node_ = request_.node();
      handle(request_);
    }
    if (first) {
      joined_ = true;
      hub_.metrics().proxyConnected();
      hub_.join(this, request_.node());
    }
    flush();
    {
      std::lock_guard lock(mu_);
      if (finished_ || finish_) return;
    }
    this->StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    std::optional<Pending> done;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      done = std::move(inflight_);
      inflight_.reset();
      if (!ok && !finish_) finish_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
    }
    if (ok && done) hub_.metrics().pushed(done->response->typeUrl(), done->published);
    flush();
  }

  void OnDone() override {
    if (joined_) hub_.metrics().proxyDisconnected();
    hub_.leave(this);
    unref();
  }

  void end(grpc::Status status) {
    {
      std::lock_guard lock(mu_);
      if (finish_ || finished_) return;
      finish_ = std::move(status);
    }
    flush();
  }

  const std::string peer_;
  const bool delta_;
  const std::chrono::system_clock::time_point connected_at_;
  grpc::ByteBuffer incoming_;  // the read buffer; one read at a time
  Request request_;            // incoming_ parsed
  bool joined_ = false;        // read path only
  uint64_t nonce_counter_ = 0;
  std::deque<Pending> queue_;
  std::optional<Pending> inflight_;
  bool writing_ = false;
  std::optional<grpc::Status> finish_;  // asked for
  bool finished_ = false;               // Finish() called
};

}  // namespace sluice::control
