#include "proxy/server/server_connection.h"

#include "proxy/server/active_listener.h"

namespace sluice::server {

ServerConnection::ServerConnection(ActiveListener& owner, std::unique_ptr<net::Connection> conn)
    : owner_(owner), conn_(std::move(conn)) {
  conn_->addCallbacks(this);
  conn_->setReadHandler(this);
}

ServerConnection::~ServerConnection() {
  // Filters may reference the connection: destroy them first.
  filters_.clear();
}

void ServerConnection::start(const std::vector<net::BuiltNetworkFilter>& filters, net::FilterContext& ctx,
                             bool after_handshake) {
  entries_ = &filters;
  ctx_ = &ctx;
  if (!after_handshake) startFilters();
}

void ServerConnection::startFilters() {
  for (const auto& entry : *entries_) {
    filters_.push_back(entry.factory->create(*entry.config, *ctx_));
    filters_.back()->initialize(*this);
  }
  for (size_t i = 0; i < filters_.size() && conn_->open(); ++i) {
    if (filters_[i]->onNewConnection() == net::FilterStatus::StopIteration) break;
  }
  if (draining_) notifyDrain();
}

void ServerConnection::drain() {
  if (draining_) return;
  draining_ = true;
  notifyDrain();
}

void ServerConnection::drainTimeout() {
  for (size_t i = 0; i < filters_.size() && conn_->open(); ++i) filters_[i]->onDrainTimeout();
  if (conn_->open()) conn_->close(net::CloseType::FlushWrite);
}

void ServerConnection::notifyDrain() {
  // A filter may close the connection from onDrain; we outlive this turn
  // (deferred delete), the filters after it need not hear.
  for (size_t i = 0; i < filters_.size() && conn_->open(); ++i) filters_[i]->onDrain();
}

void ServerConnection::onRead(net::Buffer& data, bool end_stream) {
  for (auto& f : filters_) {
    if (!conn_->open()) return;
    if (f->onData(data, end_stream) == net::FilterStatus::StopIteration) return;
  }
}

void ServerConnection::onEvent(net::ConnectionEvent event) {
  if (event == net::ConnectionEvent::HandshakeComplete) {
    owner_.onHandshakeComplete();
    if (filters_.empty() && entries_ != nullptr) startFilters();
    return;
  }
  if (event == net::ConnectionEvent::Closed) owner_.onConnectionClosed(*this);
}

}  // namespace sluice::server
