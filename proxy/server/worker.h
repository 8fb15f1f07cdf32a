#pragma once
// A worker: one thread, one loop, and every connection it accepted, end to
// end. The main thread talks to it only through the thread-safe calls below,
// which post to the worker's loop.

#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "proxy/event/loop.h"
#include "proxy/net/reserve_fd.h"
#include "proxy/overload/overload_state.h"
#include "proxy/server/active_listener.h"
#include "proxy/server/snapshot.h"
#include "proxy/upstream/cluster_manager.h"

namespace sluice::server {

class Worker {
 public:
  // `overload` outlives the worker; the main thread publishes to it.
  Worker(size_t index, const overload::OverloadState& overload);
  ~Worker();

  // Thread-safe.
  void start();
  // Swap to `snap`: new and changed listeners start accepting, listeners that
  // are gone or changed drain for the snapshot's drain_timeout.
  void apply(std::shared_ptr<const Snapshot> snap);
  // Drain every listener; `done` runs on this worker's thread once no
  // connection is left (after at most `timeout`, when the rest are closed).
  void drain(event::Duration timeout, std::function<void()> done);
  // Exit the loop now; connections are closed as the worker is destroyed.
  void stop();
  void join();
  // The overload actions changed: listeners that stopped accepting try again.
  void onOverloadChanged();

  // Worker thread only.
  event::Loop& loop() { return loop_; }
  upstream::ClusterManager& clusters() { return clusters_; }
  // The current snapshot's route tables (FilterContext::routes refers here).
  const std::shared_ptr<const http::RouteTables>& routes() const { return routes_; }
  size_t index() const { return index_; }
  const overload::OverloadState& overload() const { return overload_; }
  // Freed by a listener out of descriptors to refuse what is queued (one per
  // worker: its listeners take turns on this thread).
  net::ReserveFd& reserveFd() { return reserve_fd_; }
  void onListenerDrained(ActiveListener& listener);

 private:
  void applyOnThread(const std::shared_ptr<const Snapshot>& snap);
  void maybeDrained();

  size_t index_;
  const overload::OverloadState& overload_;
  net::ReserveFd reserve_fd_;
  event::Loop loop_;
  std::thread thread_;
  upstream::ClusterManager clusters_;
  std::shared_ptr<const Snapshot> current_;
  std::shared_ptr<const http::RouteTables> routes_;  // current_->routes, through a control block of ours
  std::map<const ListenerSockets*, std::unique_ptr<ActiveListener>> active_;
  std::vector<std::unique_ptr<ActiveListener>> draining_;
  std::function<void()> on_drained_;
};

}  // namespace sluice::server
