#pragma once
// Http1ConnPool: the HttpConnPool (conn_pool.h) for HTTP/1.1, one worker's
// connections to one host, one stream per connection at a time.
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

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/wait_queue.h"

namespace sluice::upstream {

class Http1ConnPool final : public HttpConnPool {
 public:
  Http1ConnPool(event::Loop& loop, Host host, PoolSettings settings, stats::ClusterStats* cluster_stats);
  ~Http1ConnPool() override;

  Protocol protocol() const override { return Protocol::Http1; }
  PendingStream* newStream(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                           PoolCallbacks& callbacks, RoutingPriority priority) override;
  // Another TLS setup closes the idle connections made under the old one.
  void update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats) override;

  // Takes a connection whose connect (and TLS handshake) is done, as an
  // AutoConnPool hands over the one that learned the host's protocol:
  // `previous_owner` gives up its place among the connection's callbacks
  // (this may run inside them), and `breaker_slot` is the cluster whose
  // connection breaker slot it holds (null: none). It serves the oldest
  // waiting request or goes idle.
  void adopt(std::unique_ptr<net::Connection> conn, net::ConnectionCallbacks* previous_owner,
             ClusterShared* breaker_slot);

  size_t idleCount() const;
  size_t totalCount() const;

  class Client;  // one connection, and the stream on it (implementation detail)

 private:
  friend class Client;
  void onClientReady(Client* c);
  void onClientConnectFailed(Client* c, StreamResetReason why);
  void onClientClosed(Client* c);
  void onClientReleased(Client* c, bool reusable);
  // False when the cluster's connection breaker is full.
  bool connectOne();
  void connectIfNeeded();
  void attach(Client* c, const StreamRequest& r);
  void makeIdle(Client* c);

  event::Loop& loop_;
  Host host_;
  PoolSettings settings_;
  stats::ClusterStats* cluster_stats_;
  std::list<std::unique_ptr<Client>> clients_;
  std::vector<Client*> idle_;  // idle clients, most recently used last
  WaitQueue pending_;
};

}  // namespace sluice::upstream
