#pragma once
// A stand-in for the stream a filter runs in: records local replies and
// continues, and owns a real loop so filters can arm timers.

#include <optional>
#include <string>

#include "proxy/event/loop.h"
#include "proxy/http/filter.h"
#include "proxy/http/route_config.h"

namespace sluice::http::testing {

class FakeDecoderCallbacks : public StreamDecoderFilterCallbacks {
 public:
  event::Loop& loop() override { return loop_; }
  StreamInfo& streamInfo() override { return info_; }
  const Route* route() override { return nullptr; }
  const VirtualHost* virtualHost() override { return nullptr; }
  const RouteConfig* routeConfig() override { return nullptr; }
  const HttpFilterConfig* perFilterConfig(std::string_view) override { return per_filter_config; }
  void clearRouteCache() override {}
  upstream::ClusterManager& clusters() override { std::abort(); }
  const net::Connection& downstreamConnection() override {
    if (connection == nullptr) std::abort();
    return *connection;
  }
  void resetStream() override { ++resets; }
  void continueDecoding() override { ++continues; }
  void sendLocalReply(int status, std::string_view body, ResponseFlag flag, std::string_view details) override {
    local_status = status;
    local_body = std::string(body);
    info_.setFlag(flag);
    info_.details = std::string(details);
  }
  void encodeHeaders(HeaderMap&, bool) override {}
  void encodeData(net::Buffer&, bool) override {}
  void encodeTrailers(HeaderMap&) override {}
  void readDisableDownstream(bool) override {}
  void addDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks&) override {}
  void removeDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks&) override {}
  HeaderMap& requestHeaders() override { return request; }

  // Runs the loop until `pred` or ~2 s.
  template <class P>
  bool runUntil(P pred) {
    for (int i = 0; i < 400 && !pred(); ++i) {
      auto t = loop_.createTimer([this] { loop_.exit(); });
      t->enable(event::Duration(5));
      loop_.run();
    }
    return pred();
  }

  HeaderMap request;
  const HttpFilterConfig* per_filter_config = nullptr;  // what perFilterConfig() answers
  const net::Connection* connection = nullptr;  // what downstreamConnection() answers (null: abort)
  std::optional<int> local_status;
  std::string local_body;
  int continues = 0;
  int resets = 0;

 private:
  event::Loop loop_;
  StreamInfo info_;
};

}  // namespace sluice::http::testing
