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
  PendingStream* newStream(http::MessageDecoder& response, StreamCallbacks& stream_callbacks, PoolCallbacks& callbacks,
                           RoutingPriority priority) override;
  // Another TLS setup closes the idle connections made under the old one.
  void update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats) override;

  // A request admitted to wait already (an AutoConnPool's, as it learned
  // the host's answer), holding a pending slot of `held` (null: none): the
  // slot passes to this pool, or is given back if the request is served at
  // once. Never given up and asked for again: another worker could take it
  // in between, and the request would fail with Overflow.
  PendingStream* newStreamHolding(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                                  PoolCallbacks& callbacks, BreakerGroup* held);

  // Takes a connection whose connect (and TLS handshake) is done, as an
  // AutoConnPool hands over the one that learned the host's protocol (or
  // that its other pool made when the host changed its answer):
  // `previous_owner` gives up its place among the connection's callbacks
  // (this may run inside them), and `breaker_slot` is the cluster whose
  // connection breaker slot it holds (null: none). Whoever made the
  // connection counts it as opened. It serves the oldest waiting request or
  // goes idle.
  void adopt(std::unique_ptr<net::Connection> conn, net::ConnectionCallbacks* previous_owner,
             ClusterShared* breaker_slot);
  // The requests waiting here, and taking those waiting in an AutoConnPool's
  // other pool (the host changed its answer) with the slots they hold: they
  // are served by idle connections or get connections of their own. Like
  // newStreamHolding, no second admission (the queue may pass
  // max_pending_requests: they were admitted once).
  WaitQueue& waiting() { return pending_; }
  void takeWaiting(WaitQueue& from);

  size_t idleCount() const;
  size_t totalCount() const;

  class Client;  // one connection, and the stream on it (implementation detail)

 private:
  friend class Client;
  void onClientReady(Client* c);
  void onClientConnectFailed(Client* c, StreamResetReason why);
  void onClientClosed(Client* c);
  void onClientReleased(Client* c, bool reusable);
  // Serves `r` on the most recently used idle connection (one must be idle).
  void serveIdle(const StreamRequest& r);
  // Queues `r`, which holds a slot of `group`: its handle, or null when
  // nothing can serve it (then it heard Overflow).
  PendingStream* wait(const StreamRequest& r, BreakerGroup* group);
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
