#pragma once
// Http1ConnPool: the HTTP/1.1 connections of one worker to one host.
//
// - A request takes an idle connection if one is open, else a new one is
//   connected (up to max_connections per pool and the cluster's
//   max_connections breaker; beyond that it waits in a bounded queue, and
//   past the queue, or with no connection to wait for, it fails with Overflow).
// - A connection returns to the idle list only when its response completed
//   cleanly and the codec says it may be reused (no Connection: close, no
//   error, no close-delimited body).
// - Idle connections keep reading: an upstream that closes one (or sends
//   stray bytes) is noticed at once and the connection is dropped, so a
//   request is never written into a connection the upstream already closed.
// - Idle connections close after idle_timeout.
// Worker thread only.

#include <cstdint>
#include <list>
#include <memory>
#include <vector>
#include <string_view>

#include "proxy/event/loop.h"
#include "proxy/http/codec.h"
#include "proxy/net/connection.h"
#include "proxy/upstream/cluster_shared.h"
#include "proxy/upstream/host.h"
#include "proxy/tls/certificate_provider.h"

namespace sluice::upstream {

enum class PoolFailure { ConnectFailed, ConnectTimeout, Overflow };
std::string_view poolFailureName(PoolFailure f);

// What a request on a pooled connection hears back besides the response.
class UpstreamRequestCallbacks {
 public:
  // The connection closed or the response was malformed before the response
  // completed. `protocol_error`: malformed response (else a close/reset).
  virtual void onUpstreamReset(bool protocol_error, std::string_view detail) = 0;
  // The upstream connection's write buffer crossed its watermarks (request body backpressure).
  virtual void onUpstreamAboveWriteBufferHighWatermark() = 0;
  virtual void onUpstreamBelowWriteBufferLowWatermark() = 0;

 protected:
  ~UpstreamRequestCallbacks() = default;
};

class PooledConnection {
 public:
  virtual ~PooledConnection() = default;
  // Starts the request; the response goes to `response`.
  virtual http::MessageEncoder& startRequest(http::MessageDecoder& response, UpstreamRequestCallbacks& callbacks) = 0;
  // Pause/resume reading the response (downstream backpressure).
  virtual void readDisable(bool disable) = 0;
  // True when this connection served an earlier request.
  virtual bool reused() const = 0;
  // The response completed: back to the pool if reusable, else closed.
  virtual void release() = 0;
  // The request was abandoned mid-way: the connection is closed.
  virtual void abort() = 0;
};

class PoolCallbacks {
 public:
  // May be called from inside newStream() when an idle connection is ready.
  virtual void onPoolReady(PooledConnection& conn) = 0;
  virtual void onPoolFailure(PoolFailure reason) = 0;

 protected:
  ~PoolCallbacks() = default;
};

struct PoolSettings {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{60000};
  uint32_t buffer_limit = 1024 * 1024;
  // Cluster-wide breakers (all workers): connections count against the
  // normal group's max_connections, waiting requests against their routing
  // priority's max_pending_requests. Null: no cluster-wide limits.
  ClusterShared* shared = nullptr;
  config::CircuitBreakersConfig breakers;
  // The worker's view of the cluster's TLS context; null: plain TCP.
  std::shared_ptr<tls::CertificateProvider::View> tls;
};

class Http1ConnPool {
 public:
  class Pending;  // a queued request; cancel() it if the caller goes away first

  Http1ConnPool(event::Loop& loop, Host host, PoolSettings settings, stats::ClusterStats* cluster_stats);
  ~Http1ConnPool();

  // Null when onPoolReady/onPoolFailure was already called; else a handle to cancel.
  Pending* newStream(PoolCallbacks& callbacks, RoutingPriority priority = RoutingPriority::Normal);
  void cancel(Pending* pending);

  // The host's settings may change on reload (same address).
  void update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats);
  uint64_t generation() const { return generation_; }
  void setGeneration(uint64_t g) { generation_ = g; }
  size_t idleCount() const;
  size_t totalCount() const;

  class Client;  // one connection (implementation detail)

 private:
  friend class Client;
  void onClientReady(Client* c);
  void onClientConnectFailed(Client* c, PoolFailure why);
  void onClientClosed(Client* c);
  void onClientReleased(Client* c, bool reusable);
  // False when the cluster's connection breaker is full.
  bool connectOne();
  void connectIfNeeded();
  void releasePending(Pending& p);
  void attach(Client* c, PoolCallbacks& cb);
  void makeIdle(Client* c);

  event::Loop& loop_;
  Host host_;
  PoolSettings settings_;
  stats::ClusterStats* cluster_stats_;
  std::list<std::unique_ptr<Client>> clients_;
  std::vector<Client*> idle_;  // idle clients, most recently used last
  std::list<std::unique_ptr<Pending>> pending_;
  uint64_t generation_ = 0;
};

}  // namespace sluice::upstream
