#pragma once
// Requester: plays the router's part against an HttpConnPool in the pool
// tests. It sends a GET when its stream is ready and records everything the
// pool tells it, for the tests to check what was (and was not) said.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "proxy/upstream/conn_pool.h"

namespace sluice::upstream::testing {

class Requester final : public PoolCallbacks, public StreamCallbacks, public http::MessageDecoder {
 public:
  void onPoolReady(UpstreamStream& stream) override {
    ++calls;
    stream_ = &stream;
    http::HeaderMap h;
    h.set(":method", "GET");
    h.set(":path", "/");
    h.set(":authority", "test");
    stream.encoder().encodeHeaders(h, true);
    if (on_ready) on_ready();
  }
  void onPoolFailure(StreamResetReason reason, std::string_view detail) override {
    ++calls;
    failure = reason;
    detail_seen = std::string(detail);
  }
  void onStreamReset(StreamResetReason reason, std::string_view detail) override {
    stream_ = nullptr;
    reset = reason;
    detail_seen = std::string(detail);
  }
  void onAboveWriteBufferHighWatermark() override {}
  void onBelowWriteBufferLowWatermark() override {}
  void decodeHeaders(http::HeaderMap& h, bool end_stream) override {
    status = h.status();
    complete = end_stream;
  }
  void decodeData(net::Buffer& d, bool end_stream) override {
    d.drain(d.length());
    complete = end_stream;
  }
  void decodeTrailers(http::HeaderMap&) override { complete = true; }

  bool ended() const { return failure || reset || complete; }
  // Lets go of the stream, if it still holds one.
  void finish() {
    if (stream_) std::exchange(stream_, nullptr)->release();
  }
  // Served: the response came, and the stream went back to the pool.
  bool served() {
    if (complete) finish();
    return complete;
  }

  PendingStream* handle = nullptr;  // what newStream returned, when the test keeps it
  std::function<void()> on_ready;   // runs inside onPoolReady, after the GET
  int calls = 0;                    // onPoolReady + onPoolFailure
  std::optional<StreamResetReason> failure;
  std::optional<StreamResetReason> reset;
  std::string detail_seen;
  int status = 0;
  bool complete = false;

 private:
  UpstreamStream* stream_ = nullptr;
};

}  // namespace sluice::upstream::testing
