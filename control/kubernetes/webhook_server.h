#pragma once
// The injection webhook's HTTPS server: HTTP/1.1 over TLS (Boost.Beast on
// Asio's OpenSSL stream), one thread of its own, keep-alive, a bound on how
// long a client may take to send a request and on its size. The API server
// is its only real client, and a pod admission waits on it: requests are
// answered on this thread in order, each in microseconds.
//
// What a request gets is the handler's business (control/control_daemon.cc
// with injection_webhook.h); this class speaks TLS and HTTP, and keeps the
// serving certificate fresh: it asks the provider again at the time the
// last certificate said (half its life, or the next look at the files) and
// serves new connections with the new one; a failed renewal is logged,
// the old certificate serves on and the provider is asked again in 30 s.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "control/kubernetes/injection_webhook.h"
#include "control/kubernetes/webhook_certificate.h"

namespace sluice::control::kubernetes {

// Called on the webhook thread, one request at a time. `target` as sent
// ("/inject?timeout=10s").
using WebhookHandler = std::function<WebhookReply(std::string_view method, std::string_view target,
                                                  std::string_view body)>;
// Makes or reads the serving certificate; false with a message when it cannot.
using CertificateProvider = std::function<bool(ServingCertificate& out, std::string& error)>;

// Requests larger than this are refused (413) unread: the API server's own
// request limit is 3 MiB.
inline constexpr size_t kMaxReviewBytes = 8 * 1024 * 1024;

class WebhookServer {
 public:
  // `address` is host:port (numeric); port 0 picks a free one.
  WebhookServer(std::string address, WebhookHandler handler, CertificateProvider certificates);
  ~WebhookServer();  // stops
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // Gets the first certificate, binds, listens and starts the thread; false
  // with a message when any of it fails.
  bool start(std::string& error);
  int port() const;
  // Asks the provider again now, on the webhook thread (returns at once):
  // the operator's files re-read on SIGHUP rather than at the next look. A
  // failure is a failed renewal: logged, the current certificate serves on.
  void refreshNow();
  // Closes the listener and every connection, joins the thread. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::control::kubernetes
