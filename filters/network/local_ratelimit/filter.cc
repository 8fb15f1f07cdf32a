#include "filters/network/local_ratelimit/filter.h"

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"

namespace sluice::filters::l4_ratelimit {

net::FilterStatus L4RateLimitFilter::onNewConnection() {
  if (!config_.limiter.enabled()) return net::FilterStatus::Continue;  // not reachable from valid YAML
  net::Connection& conn = callbacks_->connection();
  bool table_full = false;
  const uint64_t key = config_.limiter.keyed() ? sluice::ratelimit::hashIp(conn.peerAddress()) : 0;
  const sluice::ratelimit::TakeResult r = config_.limiter.take(key, loop_.now(), &table_full);
  if (table_full) config_.key_table_full->inc();
  if (r.allowed) {
    config_.ok->inc();
    return net::FilterStatus::Continue;
  }
  if (config_.spec.shadow) {
    config_.shadow_limited->inc();
    return net::FilterStatus::Continue;
  }
  config_.limited->inc();
  // Nothing was read or written yet: a plain close. Closing raises Closed
  // synchronously; the server then defers its own deletion, and stops the
  // chain because the connection is no longer open.
  conn.close(net::CloseType::NoFlush);
  return net::FilterStatus::StopIteration;
}

}  // namespace sluice::filters::l4_ratelimit
