#pragma once
// One accepted downstream connection and its network filter chain. Owned by
// the ActiveListener that accepted it; lives and dies on that worker.

#include <memory>
#include <vector>

#include "proxy/net/connection.h"
#include "proxy/net/filter.h"
#include "proxy/server/snapshot.h"

namespace sluice::server {

class ActiveListener;

class ServerConnection final : public net::ReadFilterCallbacks,
                               public net::ReadHandler,
                               public net::ConnectionCallbacks,
                               public event::DeferredDeletable {
 public:
  ServerConnection(ActiveListener& owner, std::unique_ptr<net::Connection> conn);
  ~ServerConnection() override;

  // Builds the filter chain and starts it, now or (`after_handshake`, for
  // TLS) once the transport handshake is done, so filters see the peer
  // identity from their first callback. `filters` and `ctx` outlive us.
  void start(const std::vector<net::BuiltNetworkFilter>& filters, net::FilterContext& ctx,
             bool after_handshake);

  // Our listener is draining: tells the filters (now, or when they start
  // after the handshake). Idempotent.
  void drain();
  // The listener's drain timeout: filters hear onDrainTimeout(), then the
  // connection closes, flushing what they queued.
  void drainTimeout();

  net::Connection& connection() override { return *conn_; }
  void onRead(net::Buffer& data, bool end_stream) override;
  void onEvent(net::ConnectionEvent event) override;

 private:
  void startFilters();
  void notifyDrain();

  ActiveListener& owner_;
  const std::vector<net::BuiltNetworkFilter>* entries_ = nullptr;
  net::FilterContext* ctx_ = nullptr;
  std::unique_ptr<net::Connection> conn_;
  std::vector<std::unique_ptr<net::NetworkFilter>> filters_;
  bool draining_ = false;
};

}  // namespace sluice::server
