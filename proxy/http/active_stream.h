#pragma once
// ActiveStream: one request/response exchange on a downstream connection.
// Receives the request from the codec, runs the decoder filters (router
// last), takes the response from the router (or a local reply), runs the
// encoder filters in reverse order and hands the result to the codec.

#include <boost/container/small_vector.hpp>
#include <boost/intrusive/list_hook.hpp>

#include <memory>
#include <vector>

#include "proxy/http/filter_iteration.h"
#include "proxy/event/loop.h"
#include "proxy/event/timer.h"
#include "proxy/http/codec.h"
#include "proxy/http/filter.h"
#include "proxy/http/route_config.h"
#include "proxy/http/route_tables.h"
#include "proxy/http/stream_info.h"

namespace sluice::http {

class ConnectionManager;
struct NormalizedPath;
template <class Callbacks>
struct CommonCallbacks;

// Owned by its ConnectionManager, which links it into its list of streams
// (the hook below: no list node is allocated) from onNewRequest() until the
// stream is done, then hands it to deferred deletion.
class ActiveStream final : public MessageDecoder,
                           public FilterChainBuilder,
                           public event::DeferredDeletable,
                           public boost::intrusive::list_base_hook<> {
 public:
  ActiveStream(ConnectionManager& manager, MessageEncoder& response);
  // One per request: blocks are recycled through a per-thread free list.
  static void* operator new(size_t n);
  static void operator delete(void* p, size_t n);
  ~ActiveStream() override;

  // From the codec.
  void decodeHeaders(HeaderMap& headers, bool end_stream) override;
  void decodeData(net::Buffer& data, bool end_stream) override;
  void decodeTrailers(HeaderMap& trailers) override;

  // FilterChainBuilder.
  void addDecoderFilter(std::shared_ptr<StreamDecoderFilter> f) override;
  void addEncoderFilter(std::shared_ptr<StreamEncoderFilter> f) override;

  // From the manager.
  // The stream ended under us: the connection closed (the default), or the
  // codec reset this stream alone (HTTP/2 RST_STREAM, goAway()). The caller
  // releases the stream.
  void onDownstreamReset(StreamResetReason reason = StreamResetReason::ConnectionTermination);
  void onDownstreamWatermark(bool above);
  // A codec error in the body of this request (invalid chunk, 413).
  void onCodecError(int status, std::string_view details);

  StreamInfo& info() { return info_; }
  bool responseStarted() const { return response_started_; }
  // Names this stream to its codec (see codec.h).
  const MessageEncoder& responseEncoder() const { return response_encoder_; }
  // The route tables this stream started with (kept alive until it ends).
  const RouteTables& routes() const { return *routes_; }

  // Implementation of the per-filter callbacks (see active_stream.cc).
  struct DecoderEntry;
  struct EncoderEntry;
  struct DecodeOps;
  struct EncodeOps;

 private:
  template <class Callbacks>
  friend struct CommonCallbacks;
  friend struct DecoderEntry;
  friend struct EncoderEntry;
  friend struct DecodeOps;
  friend struct EncodeOps;

  const Route* route();
  // `location`, when given, becomes the reply's Location header.
  void sendLocalReply(int status, std::string_view body, ResponseFlag flag, std::string_view details,
                      std::string_view location = {});
  // Answers a path the normalizer refused (400) or redirects (307).
  void refusePath(const NormalizedPath& norm);
  void encodeHeaders(HeaderMap& headers, bool end_stream);
  void encodeData(net::Buffer& data, bool end_stream);
  void encodeTrailers(HeaderMap& trailers);
  void onResponseComplete();
  void maybeDone();
  void destroyFilters();
  void resetStream();
  void touch() { last_activity_ = loop_.now(); }
  void stopTimers();
  void onIdleTimer();
  void onMaxDuration();

  ConnectionManager& manager_;
  event::Loop& loop_;
  MessageEncoder& response_encoder_;
  StreamInfo info_;
  HeaderMap* request_headers_ = nullptr;
  HeaderMap local_reply_headers_;
  std::shared_ptr<const RouteTables> routes_;
  const RouteConfig* route_config_ = nullptr;  // in routes_; null: no such table (404)
  bool route_cached_ = false;
  const Route* route_ = nullptr;
  const VirtualHost* vhost_ = nullptr;

  // Inline for the usual few filters: no allocation for the lists themselves.
  boost::container::small_vector<std::unique_ptr<DecoderEntry>, 4> decoders_;
  boost::container::small_vector<std::unique_ptr<EncoderEntry>, 4> encoders_;  // in encode order (reverse of config)
  // Both directions' iteration state, made in one allocation once the
  // request headers have picked the filters.
  struct Chain;
  std::unique_ptr<Chain> chain_;
  boost::container::small_vector<DownstreamWatermarkCallbacks*, 2> watermark_callbacks_;

  bool request_complete_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool local_reply_ = false;
  bool done_ = false;
  bool reset_ = false;
  int read_disabled_ = 0;
  // Above-watermark signals in force (connection buffer, stream window).
  int watermark_level_ = 0;
  event::MonoTime last_activity_{};
  // Per stream, since HTTP/2 runs many at once. They live in place in this
  // pooled object and call plain functions: a request builds no
  // std::function and allocates no timer.
  event::Timer idle_timer_;      // stream_idle_timeout, pushed back by touch()
  event::Timer duration_timer_;  // max_stream_duration from the request's headers
};

}  // namespace sluice::http
