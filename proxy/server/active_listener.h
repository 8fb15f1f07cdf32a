#pragma once
// One listener on one worker: accepts on this worker's SO_REUSEPORT socket
// and owns every connection it accepted until that connection closes.
// Worker thread only.

#include <memory>
#include <unordered_map>

#include "proxy/event/loop.h"
#include "proxy/network/filter.h"
#include "proxy/server/server_connection.h"
#include "proxy/server/snapshot.h"

namespace sluice::server {

class Worker;

class ActiveListener final : public event::IoHandler, public event::DeferredDeletable {
 public:
  ActiveListener(Worker& worker, std::shared_ptr<ListenerSockets> sockets, std::shared_ptr<const config::Config> owner,
                 const config::ListenerConfig& cfg, stats::ListenerStats& stats,
                 std::shared_ptr<const network::ScopeStatsMap> scope_stats);
  ~ActiveListener() override;

  // Stops accepting (closing this worker's socket); open connections go on.
  // After `timeout` those left are closed. The worker is told when none are left.
  void drain(event::Duration timeout);
  bool draining() const { return draining_; }
  size_t connectionCount() const { return connections_.size(); }
  const ListenerSockets& sockets() const { return *sockets_; }

  void onConnectionClosed(ServerConnection& conn);
  void onIoEvent(uint32_t events) override;

 private:
  void acceptAll();
  void stopAccepting();
  void closeAll();

  Worker& worker_;
  std::shared_ptr<ListenerSockets> sockets_;
  std::shared_ptr<const config::Config> owner_;  // keeps cfg_ alive for our connections
  const config::ListenerConfig& cfg_;
  stats::ListenerStats& stats_;
  std::shared_ptr<const network::ScopeStatsMap> scope_stats_;
  network::FilterContext filter_ctx_;
  int fd_ = -1;
  bool draining_ = false;
  bool destroying_ = false;
  std::unordered_map<ServerConnection*, std::unique_ptr<ServerConnection>> connections_;
  std::unique_ptr<event::Timer> drain_timer_;
  std::unique_ptr<event::Timer> accept_retry_timer_;  // after EMFILE
};

}  // namespace sluice::server
