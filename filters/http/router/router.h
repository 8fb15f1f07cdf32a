#pragma once
// The router: the last HTTP filter. It answers routes with redirect or
// direct_response actions itself; for a cluster action it picks the cluster
// (weighted split), a host from that cluster's load balancer and a pooled
// connection to it, forwards the request, and streams the response back.
//
// Failures, each with a response flag for the access log:
//   no route 404 (NR), unknown cluster 503 (NC), no host 503 (UH),
//   connect failure/timeout 503 (UF), pool or circuit-breaker overflow 503 (UO),
//   route timeout 504 (UT), upstream reset before the response 502 (UC),
//   malformed response 502 (UPE). After response headers went downstream a
//   failure can only reset the downstream stream.

#include <memory>
#include <optional>

#include "proxy/http/filter.h"
#include "proxy/http/route_config.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/upstream/http1_conn_pool.h"

namespace sluice::filters::router {

class RouterFilter final : public sluice::http::StreamDecoderFilter,
                           public sluice::http::DownstreamWatermarkCallbacks,
                           public upstream::PoolCallbacks,
                           public upstream::UpstreamRequestCallbacks {
 public:
  RouterFilter() = default;
  ~RouterFilter() override;

  void setDecoderFilterCallbacks(sluice::http::StreamDecoderFilterCallbacks& cb) override { callbacks_ = &cb; }
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  sluice::http::FilterDataStatus decodeData(net::Buffer& data, bool end_stream) override;
  sluice::http::FilterTrailersStatus decodeTrailers(sluice::http::HeaderMap& trailers) override;
  void onDestroy() override;

  // Downstream write buffer (response backpressure).
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // Connection pool.
  void onPoolReady(upstream::PooledConnection& conn) override;
  void onPoolFailure(upstream::PoolFailure reason) override;

  // The upstream connection.
  void onUpstreamReset(bool protocol_error, std::string_view detail) override;
  void onUpstreamAboveWriteBufferHighWatermark() override;
  void onUpstreamBelowWriteBufferLowWatermark() override;

  // The response from the upstream codec.
  void onResponseHeaders(sluice::http::HeaderMap& headers, bool end_stream);
  void onResponseData(net::Buffer& data, bool end_stream);
  void onResponseTrailers(sluice::http::HeaderMap& trailers);

 private:
  // Receives the upstream response (a separate object: the filter's own
  // decode* names are taken by the request path).
  struct Response final : sluice::http::MessageDecoder {
    explicit Response(RouterFilter& r) : router(r) {}
    void decodeHeaders(sluice::http::HeaderMap& h, bool end_stream) override { router.onResponseHeaders(h, end_stream); }
    void decodeData(net::Buffer& d, bool end_stream) override { router.onResponseData(d, end_stream); }
    void decodeTrailers(sluice::http::HeaderMap& t) override { router.onResponseTrailers(t); }
    RouterFilter& router;
  };

  void sendDirectResponse(const sluice::http::DirectResponseAction& action);
  void sendRedirect(const sluice::http::RedirectAction& action, const sluice::http::HeaderMap& request);
  void applyRequestMutations(sluice::http::HeaderMap& h);
  void applyResponseMutations(sluice::http::HeaderMap& h);
  void onTimeout();
  void finishUpstream(bool success);
  // Tells passive health checking how the request to the picked host went (once).
  void reportOutcome(upstream::HostOutcome outcome);
  void fail(int status, sluice::http::ResponseFlag flag, std::string_view details);

  sluice::http::StreamDecoderFilterCallbacks* callbacks_ = nullptr;
  const sluice::http::Route* route_ = nullptr;
  upstream::Cluster* cluster_ = nullptr;  // valid only inside one callback
  std::string cluster_name_;
  stats::ClusterStats* cluster_stats_ = nullptr;  // lives until exit
  // The picked host's cluster, kept (across config swaps) until the outcome is reported.
  std::shared_ptr<upstream::Cluster> picked_cluster_;
  upstream::Cluster::Pick pick_{};
  bool outcome_reported_ = false;
  stats::HostStats* host_stats_ = nullptr;     // lives until exit
  upstream::Breaker* request_slot_ = nullptr;  // our max_requests slot, held until the upstream part ends
  sluice::http::HeaderMap* request_headers_ = nullptr;
  sluice::http::HeaderMap local_headers_;  // redirect / direct response
  Response response_{*this};
  bool request_end_ = false;
  net::Buffer pending_body_;        // request bytes that arrived before the connection was ready
  bool pending_end_stream_ = false;
  sluice::http::HeaderMap* pending_trailers_ = nullptr;
  upstream::Http1ConnPool* pool_ = nullptr;
  upstream::Http1ConnPool::Pending* pool_handle_ = nullptr;
  upstream::PooledConnection* conn_ = nullptr;
  sluice::http::MessageEncoder* encoder_ = nullptr;
  bool downstream_paused_ = false;  // we paused downstream reads
  bool upstream_paused_ = false;    // we paused upstream reads
  bool response_started_ = false;
  bool upstream_done_ = false;
  bool response_complete_ = false;  // the upstream's response ended cleanly
  bool watermarks_registered_ = false;
  event::MonoTime start_{};
  std::optional<event::Timer> timeout_timer_;  // in place: no allocation per request
};

// The router has no config of its own; the connection manager always adds it last.
const sluice::http::HttpFilterConfig& defaultConfig();
const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::router
