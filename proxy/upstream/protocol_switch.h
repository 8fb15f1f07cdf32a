#pragma once
// ProtocolSwitch: what the HTTP/1 and HTTP/2 pools inside an AutoConnPool
// (auto_conn_pool.h) tell it about each new connection's ALPN answer, and
// how they give up a connection on which the host picked the other
// protocol: it worked, so it goes to the other pool, never fails as a
// connect failure. Ordinary pools have none (PoolSettings::protocol_switch
// is null) and pay one pointer test per connection made. Worker thread only.

#include <list>
#include <memory>
#include <string_view>
#include <utility>

#include "proxy/event/loop.h"
#include "proxy/net/connection.h"
#include "proxy/upstream/cluster_shared.h"
#include "proxy/upstream/conn_pool.h"

namespace sluice::upstream {

class ProtocolSwitch {
 public:
  // A new connection of the pool speaking `pool` ended its handshake having
  // negotiated `alpn` ("" for none). False: the host picked the other
  // protocol; the pool then gives the connection up with mismatched().
  virtual bool negotiated(Protocol pool, std::string_view alpn) = 0;
  // The pool speaking `pool` gives up `conn` from inside its Connected
  // callback, together with the requests waiting in it. `previous_owner` is
  // the pool's place among the connection's callbacks (alive until the end
  // of the turn), `breaker_slot` the cluster whose connection breaker slot
  // the connection holds (null: none); it was counted as opened already.
  virtual void mismatched(Protocol pool, std::unique_ptr<net::Connection> conn,
                          net::ConnectionCallbacks* previous_owner, ClusterShared* breaker_slot) = 0;

 protected:
  ~ProtocolSwitch() = default;
};

// What the pool speaking `pool` does with its client `c` whose connection
// heard the other protocol, inside that connection's Connected callback:
// takes it off `clients` (freed at the end of the turn), and hands its
// connection, breaker slot and place among the callbacks to `to`. The
// connection worked: no connect failure, and it stays counted as open.
template <class Client>
void handOverMismatched(std::list<std::unique_ptr<Client>>& clients, Client* c, event::Loop& loop, ProtocolSwitch& to,
                        Protocol pool) {
  for (auto it = clients.begin(); it != clients.end(); ++it) {
    if (it->get() != c) continue;
    ClusterShared* slot = std::exchange(c->holds_breaker_slot, nullptr);
    std::unique_ptr<net::Connection> conn = c->giveUp();
    loop.deferredDelete(std::move(*it));
    clients.erase(it);
    to.mismatched(pool, std::move(conn), c, slot);
    return;
  }
}

}  // namespace sluice::upstream
