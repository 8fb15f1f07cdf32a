#pragma once
// AutoConnPool: the HttpConnPool (conn_pool.h) of a `protocol: auto` TLS
// cluster, for one worker and one host. The host picks the protocol: its
// TLS connections offer h2 and http/1.1 by ALPN (the cluster's tls.alpn),
// and what it answers decides, as with Envoy's auto_config.
//
// - It owns one Http1ConnPool and one Http2ConnPool for the host and
//   remembers the host's last answer. Once known, a request goes straight
//   to that pool, whose new connections again offer both protocols.
// - While the answer is unknown (the first requests, or after a connection
//   failed to learn it), requests wait here (bounded by
//   max_pending_requests and the pending-request breaker) while one
//   connection is made. Its answer is remembered, the connection is handed
//   to the matching pool (no second handshake), and the waiting requests go
//   to that pool, each with the pending-request breaker slot it holds (never
//   given up and taken again, when another worker could take it). Discovery
//   fails a request only as connecting would (ConnectFailure,
//   ConnectTimeout, Overflow).
// - A host that changes its answer: a pool's new connection that
//   negotiated the other protocol worked, so it goes to the other pool (with
//   its connection breaker slot, counted once, no connect failure), and so
//   do the requests waiting in the first pool, slots and handles kept. The
//   new answer is remembered: the requests after it go to the other pool.
// - A new TLS setup (update) while the answer is being learned: the
//   connection made under the old one is closed and another is made, for
//   the same waiting requests.
// Worker thread only.

#include <list>
#include <memory>
#include <optional>

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/http1_conn_pool.h"
#include "proxy/upstream/http2_conn_pool.h"
#include "proxy/upstream/protocol_switch.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::upstream {

class AutoConnPool final : public HttpConnPool, private net::ConnectionCallbacks, private ProtocolSwitch {
 public:
  AutoConnPool(event::Loop& loop, Host host, PoolSettings settings, stats::ClusterStats* cluster_stats);
  ~AutoConnPool() override;

  Protocol protocol() const override { return Protocol::Auto; }
  PendingStream* newStream(http::MessageDecoder& response, StreamCallbacks& stream_callbacks, PoolCallbacks& callbacks,
                           RoutingPriority priority) override;
  // Another TLS setup forgets the host's answer (it may be another server).
  void update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats) override;

  // What the host picked last; nullopt until a connection learned it.
  std::optional<Protocol> known() const { return known_; }

  class Pending;  // a request waiting for the host's answer

 private:
  friend class Pending;
  PoolSettings innerSettings(PoolSettings settings);
  // Calls f with the HTTP/2 pool for Http2, else the HTTP/1 one.
  template <class F>
  decltype(auto) withPool(Protocol p, F&& f) {
    return p == Protocol::Http2 ? f(*http2_) : f(*http1_);
  }
  // ProtocolSwitch: the inner pools' connections.
  bool negotiated(Protocol pool, std::string_view alpn) override;
  void mismatched(Protocol pool, std::unique_ptr<net::Connection> conn, net::ConnectionCallbacks* previous_owner,
                  ClusterShared* breaker_slot) override;
  void discover();
  // net::ConnectionCallbacks: the discovery connection.
  void onEvent(net::ConnectionEvent event) override;
  void onDiscovered(Protocol p);
  void onDiscoveryFailed(StreamResetReason why);
  // Fails every request still waiting here (not those handed to a pool).
  void failWaiting(StreamResetReason why);
  void endDiscovery();
  void cancel(Pending& p);
  void erase(Pending& p);

  event::Loop& loop_;
  Host host_;
  PoolSettings settings_;
  stats::ClusterStats* cluster_stats_;
  std::optional<Protocol> known_;
  std::unique_ptr<Http1ConnPool> http1_;
  std::unique_ptr<Http2ConnPool> http2_;
  // The connection learning the host's answer, while one is being made.
  std::unique_ptr<net::Connection> discovery_;
  std::unique_ptr<event::Timer> discovery_timer_;
  bool discovery_timed_out_ = false;
  ClusterShared* discovery_breaker_slot_ = nullptr;
  std::list<Pending, util::PoolAllocator<Pending>> pending_;
};

}  // namespace sluice::upstream
