#include "filters/network/authz/filter.h"

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"

namespace sluice::filters::network_authz {

net::FilterStatus NetworkAuthzFilter::onNewConnection() {
  net::Connection& conn = callbacks_->connection();
  const sluice::authz::Decision d =
      config_.enforcer.decide(sluice::authz::connectionFacts(conn.peerAddress(), conn.tlsInfo()), loop_.now());
  if (d.allowed) return net::FilterStatus::Continue;
  // Nothing was read or written yet: a plain close. The server sees the
  // connection closed and runs no later filter; the object itself is
  // deleted at the end of the loop turn.
  conn.close(net::CloseType::NoFlush);
  return net::FilterStatus::StopIteration;
}

}  // namespace sluice::filters::network_authz
