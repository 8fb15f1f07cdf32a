#pragma once
// Http2ConnPool: the HttpConnPool (conn_pool.h) for HTTP/2, one worker's
// connections to one host, many streams on each (nghttp2 client sessions).
//
// - A request takes a stream on a connection with room: fewer open streams
//   than the peer's SETTINGS_MAX_CONCURRENT_STREAMS (and our own
//   http2.max_concurrent_streams). When every connection is full, another is
//   connected (up to max_connections per pool and the cluster's
//   max_connections breaker); beyond that the request waits in the bounded
//   queue, and past the queue it fails with Overflow.
// - A GOAWAY from the host drains its connection: no new stream goes to it,
//   streams it says it never processed end with RefusedStream (safe to retry,
//   `retry_on: refused-stream`), the rest finish, then it closes.
// - A REFUSED_STREAM reset is RefusedStream; another RST_STREAM is
//   RemoteReset; the connection going away is ConnectionTermination.
// - Flow control: the response's window is given back as the caller takes
//   it; readDisable() on a stream withholds only that stream's window. A
//   request body the host's window has not taken yet, past the connection's
//   buffer limit, pauses that stream's producer (watermark callbacks).
// - Connections with no stream close after idle_timeout; with
//   http2.keepalive_interval set, a connection is PINGed that often and
//   dropped when the ack does not come within keepalive_timeout.
// Worker thread only.

#include <list>
#include <memory>

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/wait_queue.h"

namespace sluice::upstream {

class Http2ConnPool final : public HttpConnPool {
 public:
  Http2ConnPool(event::Loop& loop, Host host, PoolSettings settings, stats::ClusterStats* cluster_stats);
  ~Http2ConnPool() override;

  Protocol protocol() const override { return Protocol::Http2; }
  PendingStream* newStream(http::MessageDecoder& response, StreamCallbacks& stream_callbacks, PoolCallbacks& callbacks,
                           RoutingPriority priority) override;
  // Another TLS setup drains the connections made under the old one.
  void update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats) override;

  // A request admitted to wait already, holding a pending slot of `held`:
  // as Http1ConnPool::newStreamHolding.
  PendingStream* newStreamHolding(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                                  PoolCallbacks& callbacks, BreakerGroup* held);

  // Takes a connection whose connect (and TLS handshake) is done, as an
  // AutoConnPool hands over the one that learned the host speaks h2 (or
  // that its HTTP/1 pool made when the host changed its answer):
  // `previous_owner` gives up its place among the connection's callbacks
  // (this may run inside them), and `breaker_slot` is the cluster whose
  // connection breaker slot it holds (null: none). Whoever made the
  // connection counts it as opened. The preface goes out and waiting
  // requests take streams on it.
  void adopt(std::unique_ptr<net::Connection> conn, net::ConnectionCallbacks* previous_owner,
             ClusterShared* breaker_slot);
  // As Http1ConnPool::waiting and takeWaiting.
  WaitQueue& waiting() { return pending_; }
  void takeWaiting(WaitQueue& from);

  size_t connectionCount() const { return clients_.size(); }

  class Client;  // one connection (implementation detail)
  class Stream;  // one request on it

 private:
  friend class Client;
  void onClientReady(Client* c);
  void onClientConnectFailed(Client* c, StreamResetReason why);
  void onClientClosed(Client* c);
  void start(Client* c, const StreamRequest& r);
  // Queues `r`, which holds a slot of `group`: its handle, or null when
  // nothing can serve it (then it heard Overflow).
  PendingStream* wait(const StreamRequest& r, BreakerGroup* group);
  // A stream ended on `c`: it has room again.
  void onStreamDone(Client* c);
  Client* withRoom();
  void connectIfNeeded();
  // False when the cluster's connection breaker is full.
  bool connectOne();
  void serveQueue(Client* c);

  event::Loop& loop_;
  Host host_;
  PoolSettings settings_;
  stats::ClusterStats* cluster_stats_;
  std::list<std::unique_ptr<Client>> clients_;
  WaitQueue pending_;
};

}  // namespace sluice::upstream
