#pragma once
// HTTP filters: per-stream chains over decoded messages. The request runs
// through decoder filters in config order (the router is always last); the
// response runs through encoder filters in reverse order. Everything happens
// on the worker thread owning the downstream connection.
//
// Iteration: a callback returning Continue passes the message on to the next
// filter. StopIteration parks it: later filters see nothing more until the
// stopped filter calls continueDecoding()/continueEncoding() (from a timer or
// an async reply), after which the parked headers, any body bytes that
// arrived meanwhile (buffered by the stream, up to its buffer limit; over it
// the request gets 413), and trailers flow on in order.
//
// Lifetime: a filter lives as long as its stream; onDestroy() comes first,
// when the stream ends or is reset, and after it no callback may be used.
//
// Adding a filter = one folder under filters/http/NAME/ (config, factory,
// filter, tests) + one line in filters/builtin.cc.

#include <memory>
#include <string_view>

#include "proxy/http/header_map.h"
#include "proxy/http/stream_info.h"
#include "proxy/net/buffer.h"

namespace sluice::event {
class Loop;
}
namespace sluice::upstream {
class ClusterManager;
}
namespace sluice::config {
class FilterSpec;
}
namespace sluice::net {
class Connection;
}

namespace sluice::http {

struct Route;
struct VirtualHost;
class RouteConfig;

enum class FilterHeadersStatus { Continue, StopIteration };
enum class FilterDataStatus {
  Continue,
  StopIterationAndBuffer,  // the stream buffers this data (and what follows) until continue
  StopIterationNoBuffer,   // the filter took the data itself (drained it)
};
enum class FilterTrailersStatus { Continue, StopIteration };

// Notified when the downstream connection's write buffer crosses its
// watermarks: the router pauses/resumes the upstream response accordingly.
class DownstreamWatermarkCallbacks {
 public:
  virtual void onAboveWriteBufferHighWatermark() = 0;
  virtual void onBelowWriteBufferLowWatermark() = 0;

 protected:
  ~DownstreamWatermarkCallbacks() = default;
};

class StreamFilterCallbacks {
 public:
  virtual event::Loop& loop() = 0;
  virtual StreamInfo& streamInfo() = 0;
  // The route matched for the request headers as they are now (null: none).
  virtual const Route* route() = 0;
  virtual const VirtualHost* virtualHost() = 0;
  virtual const RouteConfig* routeConfig() = 0;
  // The most specific `per_filter_config` entry for the filter registered as
  // `filter_name`: the matched route's, else its virtual host's; null when
  // neither sets one (the filter then runs on its listener-level config).
  virtual const class HttpFilterConfig* perFilterConfig(std::string_view filter_name) = 0;
  // Re-match after a filter changed the request headers.
  virtual void clearRouteCache() = 0;
  virtual upstream::ClusterManager& clusters() = 0;
  virtual const net::Connection& downstreamConnection() = 0;
  // Ends the stream abruptly (downstream connection reset on HTTP/1).
  virtual void resetStream() = 0;

 protected:
  ~StreamFilterCallbacks() = default;
};

class StreamDecoderFilterCallbacks : public StreamFilterCallbacks {
 public:
  virtual void continueDecoding() = 0;
  // Answers the request from here: later decoder filters are skipped; the
  // reply runs through the encoder filters. `flag` and `details` go to the
  // access log and metrics.
  virtual void sendLocalReply(int status, std::string_view body, ResponseFlag flag, std::string_view details) = 0;
  // The response (from the router's upstream) enters the encoder chain.
  virtual void encodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  virtual void encodeData(net::Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(HeaderMap& trailers) = 0;
  // Flow control: pause/resume reading the downstream (request body backpressure).
  virtual void readDisableDownstream(bool disable) = 0;
  virtual void addDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) = 0;
  virtual void removeDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) = 0;
  // The request after decodeHeaders (headers may be mutated by filters until forwarded).
  virtual HeaderMap& requestHeaders() = 0;

 protected:
  ~StreamDecoderFilterCallbacks() = default;
};

class StreamEncoderFilterCallbacks : public StreamFilterCallbacks {
 public:
  virtual void continueEncoding() = 0;

 protected:
  ~StreamEncoderFilterCallbacks() = default;
};

class StreamDecoderFilter {
 public:
  virtual ~StreamDecoderFilter() = default;
  virtual void setDecoderFilterCallbacks(StreamDecoderFilterCallbacks& callbacks) = 0;
  virtual FilterHeadersStatus decodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  virtual FilterDataStatus decodeData(net::Buffer& data, bool end_stream) = 0;
  virtual FilterTrailersStatus decodeTrailers(HeaderMap& trailers) = 0;
  // The stream ends or is reset; cancel timers and async work here.
  virtual void onDestroy() {}
};

class StreamEncoderFilter {
 public:
  virtual ~StreamEncoderFilter() = default;
  virtual void setEncoderFilterCallbacks(StreamEncoderFilterCallbacks& callbacks) = 0;
  virtual FilterHeadersStatus encodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  virtual FilterDataStatus encodeData(net::Buffer& data, bool end_stream) = 0;
  virtual FilterTrailersStatus encodeTrailers(HeaderMap& trailers) = 0;
  virtual void onDestroy() {}
};

// Pass-through defaults for filters that only care about a few callbacks.
class PassThroughDecoderFilter : public StreamDecoderFilter {
 public:
  void setDecoderFilterCallbacks(StreamDecoderFilterCallbacks& cb) override { decoder_callbacks_ = &cb; }
  FilterHeadersStatus decodeHeaders(HeaderMap&, bool) override { return FilterHeadersStatus::Continue; }
  FilterDataStatus decodeData(net::Buffer&, bool) override { return FilterDataStatus::Continue; }
  FilterTrailersStatus decodeTrailers(HeaderMap&) override { return FilterTrailersStatus::Continue; }

 protected:
  StreamDecoderFilterCallbacks* decoder_callbacks_ = nullptr;
};

class PassThroughEncoderFilter : public StreamEncoderFilter {
 public:
  void setEncoderFilterCallbacks(StreamEncoderFilterCallbacks& cb) override { encoder_callbacks_ = &cb; }
  FilterHeadersStatus encodeHeaders(HeaderMap&, bool) override { return FilterHeadersStatus::Continue; }
  FilterDataStatus encodeData(net::Buffer&, bool) override { return FilterDataStatus::Continue; }
  FilterTrailersStatus encodeTrailers(HeaderMap&) override { return FilterTrailersStatus::Continue; }

 protected:
  StreamEncoderFilterCallbacks* encoder_callbacks_ = nullptr;
};

// Receives the filters a factory makes for one stream.
class FilterChainBuilder {
 public:
  virtual void addDecoderFilter(std::shared_ptr<StreamDecoderFilter> f) = 0;
  virtual void addEncoderFilter(std::shared_ptr<StreamEncoderFilter> f) = 0;
  // A filter that is both (added to both chains).
  template <class F>
  void addStreamFilter(std::shared_ptr<F> f) {
    addDecoderFilter(f);
    addEncoderFilter(f);
  }

 protected:
  ~FilterChainBuilder() = default;
};

// A filter's runtime config, built from its plain spec when a snapshot is
// built (and for a route's `per_filter_config`, when its route table is):
// immutable, shared by every worker and stream.
class HttpFilterConfig {
 public:
  virtual ~HttpFilterConfig() = default;
};

// The runtime half of an HTTP filter; its config half is a
// config::HttpFilterReader of the same name.
class HttpFilterFactory {
 public:
  virtual ~HttpFilterFactory() = default;
  // The filter's key in `http_filters` ("fault", "header_mutation", ...).
  virtual std::string_view name() const = 0;
  // The runtime config for a spec its reader read (listener-level or per
  // route) and validated. Main thread; never null.
  virtual std::shared_ptr<const HttpFilterConfig> build(const config::FilterSpec& spec) const = 0;
  virtual void createFilters(const HttpFilterConfig& cfg, FilterChainBuilder& chain) const = 0;
};

// The built-in registry (filters/builtin.cc). Null when unknown.
const HttpFilterFactory* findHttpFilter(std::string_view name);

}  // namespace sluice::http
