#pragma once
// TcpProxyFilter: pairs one downstream connection with one upstream
// connection and streams bytes both ways.
//
// - Connect: the cluster's load balancer picks a host, skipping hosts already
//   tried; a refused or timed-out connect moves on to the next host, up to
//   max_connect_attempts. Downstream reads stay paused until connected.
//   An original_dst cluster's one host is where the client was going
//   (Connection::originalDestination); without one the connection is
//   refused and counted (upstream_cx_original_dst_loop).
// - Backpressure: when one side's write buffer passes its high watermark,
//   reads on the other side pause until it drains to the low watermark.
// - Half-close: a FIN from either side is forwarded as a FIN to the other;
//   a reset is forwarded as a reset.
// - Idle timeout: no byte either way for idle_timeout closes both.

#include <memory>
#include <vector>

#include "filters/network/tcp_proxy/config.h"
#include "proxy/event/timer.h"
#include "proxy/net/connection.h"
#include "proxy/net/filter.h"
#include "proxy/upstream/cluster_manager.h"

namespace sluice::filters::tcp_proxy {

class TcpProxyFilter final : public net::NetworkFilter,
                             public net::ConnectionCallbacks,
                             public upstream::LbContext {
 public:
  TcpProxyFilter(const Spec& spec, net::FilterContext& ctx);
  ~TcpProxyFilter() override;

  void initialize(net::ReadFilterCallbacks& callbacks) override;
  net::FilterStatus onNewConnection() override;
  net::FilterStatus onData(net::Buffer& data, bool end_stream) override;

  // Downstream connection events.
  void onEvent(net::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  bool shouldSkip(const upstream::Host& host) const override;

 private:
  // Upstream side: its events and bytes.
  class Upstream final : public net::ConnectionCallbacks, public net::ReadHandler {
   public:
    explicit Upstream(TcpProxyFilter& parent) : parent_(parent) {}
    void onEvent(net::ConnectionEvent event) override { parent_.onUpstreamEvent(event); }
    void onAboveWriteBufferHighWatermark() override { parent_.downstream().readDisable(true); }
    void onBelowWriteBufferLowWatermark() override { parent_.downstream().readDisable(false); }
    void onRead(net::Buffer& data, bool end_stream) override { parent_.onUpstreamData(data, end_stream); }

   private:
    TcpProxyFilter& parent_;
  };

  net::Connection& downstream() { return callbacks_->connection(); }
  void connectNext();
  // original_dst clusters: the downstream's original destination as host_;
  // false (downstream closed, counted) when it has none.
  bool pickOriginalDestination();
  // Connects to host_ (picked, its breaker slot held).
  void startUpstream();
  void onUpstreamEvent(net::ConnectionEvent event);
  void onUpstreamData(net::Buffer& data, bool end_stream);
  void onConnectTimeout();
  void onConnectFailure();
  void reportOutcome(upstream::HostOutcome outcome);
  void onIdleTimer();
  void releaseUpstream();

  const Spec& spec_;
  net::FilterContext& ctx_;
  net::ReadFilterCallbacks* callbacks_ = nullptr;
  Upstream upstream_callbacks_{*this};
  std::unique_ptr<net::Connection> upstream_;
  upstream::Host host_;  // the host upstream_ goes to
  upstream::Cluster* cluster_ = nullptr;  // valid within one call only (swaps rebuild it)
  // The cluster of the current attempt, kept until its outcome (connected or
  // failed) is reported to passive health checking.
  std::shared_ptr<upstream::Cluster> picked_cluster_;
  upstream::Cluster::Pick pick_{};
  upstream::Breaker* breaker_ = nullptr;  // the connection slot held by upstream_
  bool connected_ = false;
  bool connect_timed_out_ = false;
  bool downstream_closed_ = false;
  bool downstream_paused_for_connect_ = false;
  std::vector<ip::Address> tried_;
  std::unique_ptr<event::Timer> connect_timer_;
  std::unique_ptr<event::Timer> idle_timer_;
  event::MonoTime last_activity_{};
};

// Builds a tcp_proxy's runtime config from its Spec, and its filters.
const net::NetworkFilterFactory& factory();

}  // namespace sluice::filters::tcp_proxy
