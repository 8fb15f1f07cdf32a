#pragma once
// ConnectionInspector: holds a just-accepted fd until its first bytes show
// whether the client speaks TLS and, if so, its SNI and ALPN offers (read
// from the ClientHello with MSG_PEEK: nothing is consumed, so the chosen
// transport sees the stream from its first byte). Used only by listeners
// that must choose among filter chains; plain listeners never peek.
//
// Bounded: gives up after `timeout` (Timeout) or when the client closes
// first. Worker thread only. Owned by its ActiveListener, which it tells
// the outcome exactly once, from a loop callback; the owner then takes the
// fd (takeFd) and defers the inspector's deletion.

#include <memory>
#include <optional>

#include "proxy/event/loop.h"
#include "ip/address.h"
#include "proxy/net/original_destination.h"
#include "proxy/tls/client_hello.h"

namespace sluice::server {

class ConnectionInspector final : public event::IoHandler, public event::DeferredDeletable {
 public:
  enum class Outcome {
    Tls,        // a ClientHello (hello() set when it could be read whole)
    Plaintext,  // the first byte is not a TLS handshake record
    Closed,     // the client closed or reset before deciding
    Timeout,
  };
  class Owner {
   public:
    virtual void onInspected(ConnectionInspector& inspector, Outcome outcome) = 0;

   protected:
    ~Owner() = default;
  };

  ConnectionInspector(event::Loop& loop, Owner& owner, int fd, const ip::Address& peer, event::Duration timeout);
  ~ConnectionInspector() override;  // closes the fd unless taken

  // Stops watching the fd and hands it over (to a Connection).
  int takeFd();
  const ip::Address& peer() const { return peer_; }
  // Where the client was going (a listener that matches or uses it sets it at accept).
  void setDestination(const net::AcceptedDestination& d) { destination_ = d; }
  const std::optional<net::AcceptedDestination>& destination() const { return destination_; }
  // Set for Outcome::Tls when the whole ClientHello was read.
  const tls::ClientHelloInfo* hello() const { return has_hello_ ? &hello_ : nullptr; }

  void onIoEvent(uint32_t events) override;

 private:
  void finish(Outcome outcome);

  event::Loop& loop_;
  Owner& owner_;
  int fd_;
  ip::Address peer_;
  std::optional<net::AcceptedDestination> destination_;
  std::unique_ptr<event::Timer> timer_;
  tls::ClientHelloInfo hello_;
  bool has_hello_ = false;
  bool done_ = false;
};

}  // namespace sluice::server
