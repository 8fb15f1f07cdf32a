#pragma once
// sluice-control's admin HTTP/1.1 server: a few read-only GETs for people
// and scrapers (/status, /metrics, /ready), so one thread of its own is
// plenty. What each path answers is the handler's business
// (control/control_daemon.cc); this class only speaks HTTP (Boost.Beast),
// with keep-alive and a bound on how long a client may take to send a
// request.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sluice::control {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the admin thread, one request at a time. `target` is the
// request target as sent ("/status", "/metrics?x=1").
using AdminHandler = std::function<AdminResponse(std::string_view method, std::string_view target)>;

class AdminServer {
 public:
  // `address` is host:port (numeric); port 0 picks a free one.
  AdminServer(std::string address, AdminHandler handler);
  ~AdminServer();  // stops
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds, listens and starts the thread; false with a message when it cannot.
  bool start(std::string& error);
  // The bound port (after start()).
  int port() const;
  // Closes the listener and every connection, joins the thread. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::control
