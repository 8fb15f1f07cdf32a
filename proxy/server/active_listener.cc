#include "proxy/server/active_listener.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/log/log.h"
#include "proxy/server/worker.h"
#include "proxy/tls/tls_transport.h"

namespace sluice::server {

ActiveListener::ActiveListener(Worker& worker, std::shared_ptr<ListenerSockets> sockets,
                               std::shared_ptr<const config::Config> owner, const config::ListenerConfig& cfg,
                               stats::ListenerStats& stats, std::shared_ptr<const ListenerChains> chains)
    : worker_(worker),
      sockets_(std::move(sockets)),
      owner_(std::move(owner)),
      cfg_(cfg),
      stats_(stats),
      chains_(std::move(chains)),
      filter_ctx_{worker.loop(), worker.clusters(), cfg_, stats_, worker.routes(), worker.index(), worker.overload()} {
  for (const auto& c : chains_->chains) {
    tls_views_.emplace_back();
    if (c.tls) tls_views_.back().emplace(c.tls);
  }
  // Adopt this worker's socket: from here on we close it.
  fd_ = sockets_->fds[worker.index()];
  sockets_->fds[worker.index()] = -1;
  worker_.loop().addFd(fd_, this, EPOLLIN | EPOLLET);
  accept_retry_timer_ = worker_.loop().createTimer([this] { acceptAll(); });
}

ActiveListener::~ActiveListener() {
  stopAccepting();
  destroying_ = true;  // their Closed events must not touch connections_ now
  for (auto& [ptr, conn] : connections_) {
    (void)ptr;
    if (conn->connection().open()) conn->connection().close(net::CloseType::NoFlush);
  }
  inspecting_.clear();  // closes their fds
}

void ActiveListener::onIoEvent(uint32_t) { acceptAll(); }

void ActiveListener::onOverloadChanged() {
  if (!worker_.overload().active(config::OverloadAction::StopAccepting)) acceptAll();
}

void ActiveListener::acceptAll(bool even_if_overloaded) {
  while (fd_ >= 0) {
    // Queued connections wait in the kernel's backlog; onOverloadChanged
    // comes back for them.
    if (!even_if_overloaded && worker_.overload().active(config::OverloadAction::StopAccepting)) return;
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        refuseQueued();
      } else if (errno == ENOBUFS || errno == ENOMEM) {
        // The kernel is short of memory: the queue waits; retry shortly instead of spinning.
        log::warn(std::string("listener ") + cfg_.name + ": accept: " + std::strerror(errno));
        accept_retry_timer_->enable(event::Duration(100));
      }
      return;
    }
    if (cfg_.max_connections > 0 &&
        sockets_->active.fetch_add(1, std::memory_order_relaxed) >= static_cast<int64_t>(cfg_.max_connections)) {
      sockets_->active.fetch_sub(1, std::memory_order_relaxed);
      stats_.downstream_cx_overflow.inc();
      ::close(fd);
      continue;
    }
    stats_.downstream_cx_total.inc();
    stats_.downstream_cx_active.inc();
    const ip::Address peer = ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    // Where the client was going: two syscalls once per connection, and
    // only for listeners that capture (use_original_dst) or match on it.
    std::optional<net::AcceptedDestination> destination;
    if (cfg_.use_original_dst || chains_->match_destination)
      destination = net::acceptedDestination(fd, cfg_.use_original_dst);
    if (chains_->match_destination) {
      const int chosen = chains_->chooseByDestination(destination->destination());
      if (chosen == ListenerChains::kNoChain) {
        // Not dropAccepted: a drain may be taking the queue (drain() decides after).
        chains_->no_filter_chain->inc();
        ::close(fd);
        releaseSlot();
        continue;
      }
      if (chosen != ListenerChains::kInspect) {
        startConnection(fd, peer, static_cast<size_t>(chosen), destination);
        continue;
      }
    } else if (!chains_->inspect) {
      startConnection(fd, peer, 0, destination);
      continue;
    }
    auto inspector =
        std::make_unique<ConnectionInspector>(worker_.loop(), *this, fd, peer, chains_->inspect_timeout);
    if (destination) inspector->setDestination(*destination);
    ConnectionInspector* raw = inspector.get();
    inspecting_.emplace(raw, std::move(inspector));
  }
}

void ActiveListener::refuseQueued() {
  // Leaving the queue alone would leave its clients hanging in the backlog
  // with no event to bring us back; retrying on a timer alone would keep
  // them waiting. Closing each at once tells them now (a FIN, or a reset if
  // they already sent a request), so they can go elsewhere.
  const int accept_errno = errno;
  uint64_t refused = 0;
  bool emptied = false;
  net::ReserveFd& reserve = worker_.reserveFd();
  if (reserve.release()) {
    for (;;) {
      const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        ::close(fd);
        ++refused;
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      emptied = errno == EAGAIN || errno == EWOULDBLOCK;
      break;
    }
  }
  // Another thread may have taken the slot the reserve freed, or the reserve
  // was not held: come back later rather than lose the queue's edge.
  if (!reserve.restore() || !emptied) accept_retry_timer_->enable(event::Duration(100));
  stats_.downstream_cx_fd_overflow.inc(static_cast<int64_t>(refused));
  fd_refused_unlogged_ += refused;
  const auto now = worker_.loop().now();
  if (last_fd_log_ != event::MonoTime{} && now - last_fd_log_ < std::chrono::seconds(10)) return;
  last_fd_log_ = now;
  log::warn("listener " + cfg_.name + ": accept: " + std::strerror(accept_errno) + "; refused " +
            std::to_string(fd_refused_unlogged_) + " connection(s) since the last line" +
            (reserve.held() ? "" : " (no reserve descriptor: retrying)"));
  fd_refused_unlogged_ = 0;
}

void ActiveListener::startConnection(int fd, const ip::Address& peer, size_t chain_index,
                                     const std::optional<net::AcceptedDestination>& destination) {
  const FilterChain& chain = chains_->chains[chain_index];
  std::unique_ptr<net::TransportSocket> transport;
  if (chain.tls) {
    transport = std::make_unique<tls::TlsTransport>(tls_views_[chain_index]->server());
  } else {
    transport = std::make_unique<net::RawTransport>();
  }
  auto conn = net::Connection::accepted(worker_.loop(), fd, peer, std::move(transport));
  if (destination) conn->setOriginalDestination(destination->original);
  conn->setBufferLimit(cfg_.per_connection_buffer_limit_bytes);
  conn->setByteCounters(&stats_.downstream_rx_bytes, &stats_.downstream_tx_bytes);
  if (chain.tls) conn->setHandshakeTimeout(chain.handshake_timeout);
  auto sc = std::make_unique<ServerConnection>(*this, std::move(conn));
  ServerConnection* raw = sc.get();
  connections_.emplace(raw, std::move(sc));
  raw->start(*chain.filters, filter_ctx_, /*after_handshake=*/chain.tls != nullptr);
  // Inspected after the drain began: it still gets to finish one request.
  if (draining_) raw->drain();
}

void ActiveListener::onInspected(ConnectionInspector& inspector, ConnectionInspector::Outcome outcome) {
  using Outcome = ConnectionInspector::Outcome;
  auto it = inspecting_.find(&inspector);
  if (it == inspecting_.end()) return;
  std::unique_ptr<ConnectionInspector> owned = std::move(it->second);
  inspecting_.erase(it);
  const int fd = owned->takeFd();
  const ip::Address peer = owned->peer();
  const std::optional<net::AcceptedDestination> destination = owned->destination();
  int chain = -1;
  if (outcome == Outcome::Tls || outcome == Outcome::Plaintext) {
    chain = chains_->select(outcome == Outcome::Tls, owned->hello(),
                            destination ? &destination->destination() : nullptr);
    if (chain < 0) chains_->no_filter_chain->inc();
  } else if (outcome == Outcome::Timeout) {
    chains_->tls_handshake_timeout->inc();
  }
  worker_.loop().deferredDelete(std::move(owned));  // we are inside its callback
  if (chain < 0) {
    dropAccepted(fd);
    return;
  }
  startConnection(fd, peer, static_cast<size_t>(chain), destination);
}

void ActiveListener::dropAccepted(int fd) {
  ::close(fd);
  releaseSlot();
  maybeDrained();
}

void ActiveListener::releaseSlot() {
  stats_.downstream_cx_active.dec();
  if (cfg_.max_connections > 0) sockets_->active.fetch_sub(1, std::memory_order_relaxed);
}

void ActiveListener::maybeDrained() {
  if (draining_ && connections_.empty() && inspecting_.empty()) worker_.onListenerDrained(*this);
}

void ActiveListener::onConnectionClosed(ServerConnection& conn) {
  if (destroying_) return;
  auto it = connections_.find(&conn);
  if (it == connections_.end()) return;
  const net::CloseReason reason = conn.connection().closeReason();
  if (reason == net::CloseReason::HandshakeFailed) {
    chains_->tls_handshake_failed->inc();
    logTlsFailure(conn);
  } else if (reason == net::CloseReason::HandshakeTimeout) {
    chains_->tls_handshake_timeout->inc();
    logTlsFailure(conn);
  } else if (conn.connection().handshaking()) {
    // The client went away (or reset) mid-handshake.
    chains_->tls_handshake_failed->inc();
  }
  releaseSlot();
  worker_.loop().deferredDelete(std::move(it->second));
  connections_.erase(it);
  maybeDrained();
}

void ActiveListener::logTlsFailure(ServerConnection& conn) {
  // A scan or a misconfigured client can fail thousands of handshakes a
  // second: one line per 10 s per worker, with the count of those skipped.
  const auto now = worker_.loop().now();
  if (last_tls_log_ != event::MonoTime{} && now - last_tls_log_ < std::chrono::seconds(10)) {
    ++tls_log_suppressed_;
    return;
  }
  last_tls_log_ = now;
  const net::Connection& c = conn.connection();
  std::string line = "listener " + cfg_.name + ": TLS handshake from " + c.peerAddress().str() + " " +
                     std::string(net::closeReasonName(c.closeReason()));
  if (!c.transport().failureReason().empty()) line += ": " + std::string(c.transport().failureReason());
  if (tls_log_suppressed_ > 0) line += " (" + std::to_string(tls_log_suppressed_) + " more since the last line)";
  tls_log_suppressed_ = 0;
  log::info(line);
}

void ActiveListener::stopAccepting() {
  if (fd_ < 0) return;
  worker_.loop().removeFd(fd_);
  ::close(fd_);
  fd_ = -1;
}

void ActiveListener::drain(event::Duration timeout) {
  if (draining_) return;
  draining_ = true;
  // Take what is already queued on our socket: closing it would reset those.
  acceptAll(/*even_if_overloaded=*/true);
  stopAccepting();
  if (connections_.empty() && inspecting_.empty()) {
    worker_.onListenerDrained(*this);
    return;
  }
  drain_timer_ = worker_.loop().createTimer([this] { closeAll(); });
  drain_timer_->enable(timeout);
  // Connections that can end cleanly before the timeout (HTTP/1 between
  // requests) are told now. Closing erases from connections_, and a closed
  // connection lives until the end of the turn: iterate a copy.
  std::vector<ServerConnection*> open;
  open.reserve(connections_.size());
  for (auto& [ptr, conn] : connections_) open.push_back(ptr);
  for (auto* c : open)
    if (c->connection().open()) c->drain();
}

void ActiveListener::closeAll() {
  // Connections still being inspected were never started: drop them first
  // (destroying an inspector outside its callback closes its fd).
  for (auto& [ptr, insp] : inspecting_) {
    (void)ptr;
    stats_.downstream_cx_drain_closed.inc();
    releaseSlot();
  }
  inspecting_.clear();
  // Closing raises Closed, which erases from connections_: iterate a copy of the keys.
  std::vector<ServerConnection*> open;
  for (auto& [ptr, conn] : connections_) open.push_back(ptr);
  if (open.empty()) maybeDrained();
  for (auto* c : open) {
    stats_.downstream_cx_drain_closed.inc();
    c->drainTimeout();
  }
}

}  // namespace sluice::server
