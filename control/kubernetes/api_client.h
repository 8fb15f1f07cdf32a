#pragma once
// One GET (or POST) to the API server over HTTP/1.1 (TLS unless the URL is a loopback
// http://), with the bearer token or client certificate of ApiAccess, the
// body handed on as it arrives (a watch's body is endless, chunked JSON
// lines). Blocking, on the calling thread; RequestCanceller ends it early.

#include <functional>
#include <string>
#include <string_view>

#include "control/kubernetes/api_access.h"
#include "control/kubernetes/request_canceller.h"

namespace sluice::control::kubernetes {

struct ApiRequestCallbacks {
  std::function<void(unsigned status)> on_status;    // once the head is read
  std::function<bool(std::string_view)> on_body;     // false: stop reading (no error)
  std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};  // silence allowed between reads
  // The most the TCP connect may take (or a cancel ends it sooner): an API
  // server that drops SYNs is otherwise waited on for the kernel's retries.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
};

// "" when the response was read to its end (or on_body stopped it);
// otherwise why it failed ("connect 127.0.0.1:6443: Connection refused",
// "TLS handshake: certificate verify failed", "read: end of stream", ...).
std::string apiGet(const ApiAccess& access, const std::string& target, RequestCanceller& canceller,
                   const ApiRequestCallbacks& callbacks);

// A GET, or with a body a POST of it as JSON (a TokenReview).
struct ApiCall {
  std::string target;
  std::string body;
};
std::string apiCall(const ApiAccess& access, const ApiCall& call, RequestCanceller& canceller,
                    const ApiRequestCallbacks& callbacks);

}  // namespace sluice::control::kubernetes
