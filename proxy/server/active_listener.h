#pragma once
// One listener on one worker: accepts on this worker's SO_REUSEPORT socket
// and owns every connection it accepted until that connection closes.
// Worker thread only.
//
// Filter chains: a listener with one plain chain starts it on each accepted
// connection at once. Otherwise a ConnectionInspector first peeks at the
// client's first bytes (TLS or not, SNI, ALPN) to choose the chain; a chain
// with TLS wraps the connection in a TlsTransport from this worker's view of
// the chain's certificate provider and starts its filters once the
// handshake is done. Connections no chain takes are closed and counted.

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "proxy/event/loop.h"
#include "proxy/net/filter.h"
#include "proxy/server/connection_inspector.h"
#include "proxy/net/original_destination.h"
#include "proxy/server/filter_chain.h"
#include "proxy/server/server_connection.h"
#include "proxy/server/snapshot.h"

namespace sluice::server {

class Worker;

class ActiveListener final : public event::IoHandler,
                             public event::DeferredDeletable,
                             public ConnectionInspector::Owner {
 public:
  ActiveListener(Worker& worker, std::shared_ptr<ListenerSockets> sockets, std::shared_ptr<const config::Config> owner,
                 const config::ListenerConfig& cfg, stats::ListenerStats& stats,
                 std::shared_ptr<const ListenerChains> chains);
  ~ActiveListener() override;

  // Stops accepting (closing this worker's socket) and tells every open
  // connection, so those that can end cleanly (HTTP/1 between requests) do;
  // the others go on. After `timeout` those left are closed. The worker is
  // told when none are left.
  void drain(event::Duration timeout);
  bool draining() const { return draining_; }
  size_t connectionCount() const { return connections_.size() + inspecting_.size(); }
  const ListenerSockets& sockets() const { return *sockets_; }

  // Resumes accepting when the overload manager no longer stops it (the
  // connections queued meanwhile raised no new event).
  void onOverloadChanged();
  void onConnectionClosed(ServerConnection& conn);
  void onHandshakeComplete() { chains_->tls_handshakes->inc(); }
  void onIoEvent(uint32_t events) override;
  void onInspected(ConnectionInspector& inspector, ConnectionInspector::Outcome outcome) override;

 private:
  // Takes every queued connection; stops early while the overload manager
  // says stop_accepting, unless `even_if_overloaded` (a drain must not reset
  // what is queued).
  void acceptAll(bool even_if_overloaded = false);
  // Out of descriptors: refuses (accepts and closes) what is queued, through
  // the worker's reserve descriptor.
  void refuseQueued();
  // Wraps an accepted fd for `chain` and starts it.
  void startConnection(int fd, const ip::Address& peer, size_t chain,
                       const std::optional<net::AcceptedDestination>& destination);
  // An accepted fd that never became a Connection.
  void dropAccepted(int fd);
  void releaseSlot();
  void maybeDrained();
  void logTlsFailure(ServerConnection& conn);
  void stopAccepting();
  void closeAll();

  Worker& worker_;
  std::shared_ptr<ListenerSockets> sockets_;
  std::shared_ptr<const config::Config> owner_;  // keeps cfg_ alive for our connections
  const config::ListenerConfig& cfg_;
  stats::ListenerStats& stats_;
  std::shared_ptr<const ListenerChains> chains_;
  // Parallel to chains_->chains: this worker's view of each TLS chain's context.
  std::vector<std::optional<tls::CertificateProvider::View>> tls_views_;
  net::FilterContext filter_ctx_;
  int fd_ = -1;
  bool draining_ = false;
  bool destroying_ = false;
  std::unordered_map<ServerConnection*, std::unique_ptr<ServerConnection>> connections_;
  std::unordered_map<ConnectionInspector*, std::unique_ptr<ConnectionInspector>> inspecting_;
  // Handshake failures are logged at most once per interval per worker.
  event::MonoTime last_tls_log_{};
  uint64_t tls_log_suppressed_ = 0;
  std::unique_ptr<event::Timer> drain_timer_;
  std::unique_ptr<event::Timer> accept_retry_timer_;  // when even the reserve could not take the queue
  event::MonoTime last_fd_log_{};                     // descriptor exhaustion: one line per 10 s
  uint64_t fd_refused_unlogged_ = 0;
};

}  // namespace sluice::server
