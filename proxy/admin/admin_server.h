#pragma once
// The admin HTTP/1.1 server: a separate listener on the main thread's loop,
// never on a worker. One request per connection (responses carry
// Connection: close); requests are parsed with Boost.Beast's parser.
// It keeps a reserve file descriptor, so that /ready and /metrics still
// answer while a flood of connections has used up the process's others.
// Main thread only.

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "ip/address.h"
#include "proxy/event/loop.h"
#include "proxy/event/timer.h"
#include "proxy/net/reserve_fd.h"

namespace sluice::admin {

struct Request {
  std::string method;  // "GET", "POST"
  std::string path;    // without the query
  std::string query;   // after '?', may be empty
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

class AdminServer final : public event::IoHandler {
 public:
  // Binds and listens; throws std::runtime_error naming the address on failure.
  AdminServer(event::Loop& loop, const ip::Address& address, Handler handler);
  ~AdminServer();
  // The bound address (port 0 resolved).
  const ip::Address& address() const { return bound_; }

  void onIoEvent(uint32_t events) override;

 private:
  class Session;
  void acceptAll();
  void onSessionDone(Session* s);

  event::Loop& loop_;
  Handler handler_;
  int fd_ = -1;
  ip::Address bound_;
  std::unordered_map<Session*, std::unique_ptr<Session>> sessions_;
  // Spent on a connection accepted while the process had no descriptor left;
  // held again when a session ends.
  net::ReserveFd reserve_;
  std::unique_ptr<event::Timer> retry_timer_;  // out of descriptors and of the reserve
};

}  // namespace sluice::admin
