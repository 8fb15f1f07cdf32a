#pragma once
// Network filters: per-listener chains over the bytes of one downstream
// connection. Everything here runs on the worker thread that owns the
// connection; a filter never sees another thread.
//
// Adding a filter = one folder under filters/network/NAME/ (namespace sluice::filters::NAME) with its config,
// factory and implementation, plus one line in filters/builtin.cc.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::event {
class Loop;
}
namespace sluice::upstream {
class ClusterManager;
}
namespace sluice::http {
struct RouteTables;
}
namespace sluice::overload {
class OverloadState;
}
namespace sluice::stats {
struct ListenerStats;
}  // namespace sluice::stats
namespace sluice::config {
class FilterSpec;
struct ListenerConfig;
}  // namespace sluice::config

namespace sluice::net {

class Buffer;
class Connection;

enum class FilterStatus {
  Continue,       // pass the data (or the new connection) to the next filter
  StopIteration,  // stop here: later filters do not see this call
};

// What a filter may do to its connection. Valid for the connection's life.
class ReadFilterCallbacks {
 public:
  virtual net::Connection& connection() = 0;

 protected:
  ~ReadFilterCallbacks() = default;
};

class NetworkFilter {
 public:
  virtual ~NetworkFilter() = default;
  // Called once, before onNewConnection.
  virtual void initialize(ReadFilterCallbacks& callbacks) = 0;
  // The connection was accepted. A terminal filter typically connects upstream here.
  virtual FilterStatus onNewConnection() { return FilterStatus::Continue; }
  // Bytes read from the downstream. The filter drains what it consumes; what it
  // leaves stays buffered for the next call. end_stream: the peer half-closed.
  virtual FilterStatus onData(net::Buffer& data, bool end_stream) = 0;
  // The listener that accepted this connection is draining (removed or
  // changed by a reload, or the proxy is shutting down). Called at most once,
  // after initialize(). A filter that knows where its protocol's messages
  // end closes the connection at the next point where no request the peer
  // already sent is lost (HTTP/1: `Connection: close` on the next response);
  // the listener closes whatever is left at its drain timeout.
  virtual void onDrain() {}
  // The drain timeout came: the listener closes this connection right after
  // this call, flushing what is already queued (bounded by the flush
  // timeout). A filter whose protocol can say so tells the peer which
  // requests were not taken (HTTP/2: GOAWAY with the last stream id), so a
  // client knows what it may retry elsewhere. Called at most once.
  virtual void onDrainTimeout() {}
};

// A filter's runtime config (buckets, counters, compiled matchers), built
// from its plain spec when a snapshot is built: immutable, shared by every
// worker and connection.
class NetworkFilterConfig {
 public:
  virtual ~NetworkFilterConfig() = default;
};

// Per-worker things a filter instance needs.
struct FilterContext {
  event::Loop& loop;
  upstream::ClusterManager& clusters;
  const config::ListenerConfig& listener;
  stats::ListenerStats& listener_stats;
  // The worker's current route tables; replaced (never changed) when a
  // snapshot arrives, so read it when a stream starts, not when the
  // connection does.
  const std::shared_ptr<const http::RouteTables>& routes;
  size_t worker;                     // index of this worker (for per-worker stats blocks)
  // The overload manager's published actions (proxy/overload/).
  const overload::OverloadState& overload;
};

// The runtime half of a network filter; its config half (reading and
// checking the spec) is a config::NetworkFilterReader of the same name.
class NetworkFilterFactory {
 public:
  virtual ~NetworkFilterFactory() = default;
  // The filter's key inside a listener ("tcp_proxy"), as its reader's.
  virtual std::string_view name() const = 0;
  // The runtime config for a spec its reader read and validated. Called on
  // the main thread when a snapshot is built; never null.
  virtual std::shared_ptr<const NetworkFilterConfig> build(const config::FilterSpec& spec) const = 0;
  virtual std::unique_ptr<NetworkFilter> create(const NetworkFilterConfig& cfg, FilterContext& ctx) const = 0;
};

// One filter of a chain, resolved and built with the snapshot: connections
// make their filters from these, never looking a name up.
struct BuiltNetworkFilter {
  const NetworkFilterFactory* factory = nullptr;
  std::shared_ptr<const NetworkFilterConfig> config;
};

// The built-in registry (filters/builtin.cc). Null when unknown.
const NetworkFilterFactory* findNetworkFilter(std::string_view name);

}  // namespace sluice::net
