#include "proxy/server/active_listener.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/server/log.h"
#include "proxy/server/worker.h"

namespace sluice::server {

ActiveListener::ActiveListener(Worker& worker, std::shared_ptr<ListenerSockets> sockets,
                               std::shared_ptr<const config::Config> owner, const config::ListenerConfig& cfg,
                               stats::ListenerStats& stats, std::shared_ptr<const network::ScopeStatsMap> scope_stats)
    : worker_(worker),
      sockets_(std::move(sockets)),
      owner_(std::move(owner)),
      cfg_(cfg),
      stats_(stats),
      scope_stats_(std::move(scope_stats)),
      filter_ctx_{worker.loop(), worker.clusters(), cfg_, stats_, *scope_stats_, worker.index()} {
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
}

void ActiveListener::onIoEvent(uint32_t) { acceptAll(); }

void ActiveListener::acceptAll() {
  while (fd_ >= 0) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: the queued connections wait; retry shortly instead of spinning.
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
    auto conn = net::Connection::accepted(worker_.loop(), fd,
                                          net::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len),
                                          std::make_unique<net::RawTransport>());
    conn->setBufferLimit(cfg_.per_connection_buffer_limit_bytes);
    conn->setByteCounters(&stats_.downstream_rx_bytes, &stats_.downstream_tx_bytes);
    auto sc = std::make_unique<ServerConnection>(*this, std::move(conn));
    ServerConnection* raw = sc.get();
    connections_.emplace(raw, std::move(sc));
    raw->start(cfg_, filter_ctx_);
  }
}

void ActiveListener::onConnectionClosed(ServerConnection& conn) {
  if (destroying_) return;
  auto it = connections_.find(&conn);
  if (it == connections_.end()) return;
  stats_.downstream_cx_active.dec();
  if (cfg_.max_connections > 0) sockets_->active.fetch_sub(1, std::memory_order_relaxed);
  worker_.loop().deferredDelete(std::move(it->second));
  connections_.erase(it);
  if (draining_ && connections_.empty()) worker_.onListenerDrained(*this);
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
  acceptAll();
  stopAccepting();
  if (connections_.empty()) {
    worker_.onListenerDrained(*this);
    return;
  }
  drain_timer_ = worker_.loop().createTimer([this] { closeAll(); });
  drain_timer_->enable(timeout);
}

void ActiveListener::closeAll() {
  // Closing raises Closed, which erases from connections_: iterate a copy of the keys.
  std::vector<ServerConnection*> open;
  for (auto& [ptr, conn] : connections_) open.push_back(ptr);
  for (auto* c : open) {
    stats_.downstream_cx_drain_closed.inc();
    c->connection().close(net::CloseType::NoFlush);
  }
}

}  // namespace sluice::server
