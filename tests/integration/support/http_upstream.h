#pragma once
// A threaded HTTP/1.1 upstream for the HTTP integration tests.
//
// Built on TestServer: every accepted connection gets a thread that parses
// requests one after another (keep-alive and pipelining), records each one
// (method, target, headers, body length and checksum, trailers) and passes it
// to the handler, which answers through an UpstreamExchange: a complete
// response, raw bytes, or nothing at all (it may also close, reset, or take
// the connection over, as an upgrade does).
//
// The request body is read completely, at full speed, before the handler
// runs (see UpstreamOptions for a slow reader). Expect: 100-continue is
// answered with "100 Continue" before the body is read. A request is
// recorded as soon as its body has been read, before the handler runs.
//
// Threads: handlers run on the connection's thread; requests(), waitFor...()
// and the counters may be called from the test thread at any time.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/support/http_message.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {

struct UpstreamRequest {
  int connection = 0;           // 1-based index of the upstream connection it arrived on
  int index_on_connection = 0;  // 0 for the first request on that connection
  std::string method;
  std::string target;   // as sent: path and query
  std::string version;  // "HTTP/1.1"
  HeaderList headers;
  HeaderList trailers;  // chunked requests only
  bool chunked = false;
  uint64_t body_bytes = 0;
  uint64_t body_checksum = 0;  // Checksum over the body (compare with patternChecksum)
  std::string body;            // the first UpstreamOptions::keep_body_bytes of it
  bool body_complete = true;   // false: the connection ended mid-body
  std::optional<std::string> header(std::string_view name) const { return findHeader(headers, name); }
  std::string describe() const;  // "GET /x {headers} body N bytes"
};

// The handler's view of one request's connection.
class UpstreamExchange {
 public:
  int fd() const { return conn_.fd(); }
  // Sends raw bytes (bounded wait); false when the peer is gone.
  bool send(std::string_view bytes);
  // A complete response with Content-Length (no body bytes for HEAD requests,
  // but the Content-Length of `body` is still declared).
  bool respond(int status, std::string_view body, const HeaderList& headers = {});
  // Ends the connection after the handler returns: FIN, or RST.
  void close() { end_ = End::kClose; }
  void reset() { end_ = End::kReset; }
  // Bytes the peer already sent after this request (a pipelined request, or
  // an upgraded protocol's first bytes). The caller takes ownership.
  std::string takePending();
  const UpstreamRequest& request() const { return request_; }

 private:
  friend class HttpUpstream;
  enum class End { kKeepAlive, kClose, kReset };
  UpstreamExchange(Conn& conn, WireReader& reader, const UpstreamRequest& request)
      : conn_(conn), reader_(reader), request_(request) {}
  Conn& conn_;
  WireReader& reader_;
  const UpstreamRequest& request_;
  End end_ = End::kKeepAlive;
};

struct UpstreamOptions {
  // Bodies are checksummed whole but only this much is kept in UpstreamRequest::body.
  size_t keep_body_bytes = 1 << 20;
  // For this long after a body starts, read it slowly (64 KiB every 5 ms):
  // an upstream that pushes back on the proxy.
  std::chrono::milliseconds slow_body_read{0};
  // How long a connection may sit without a byte from the proxy before the
  // upstream gives up on it.
  std::chrono::milliseconds idle_limit{60000};
};

class HttpUpstream {
 public:
  using Handler = std::function<void(const UpstreamRequest&, UpstreamExchange&)>;
  explicit HttpUpstream(Handler handler, UpstreamOptions options = {});
  ~HttpUpstream();
  HttpUpstream(const HttpUpstream&) = delete;
  HttpUpstream& operator=(const HttpUpstream&) = delete;

  uint16_t port() const { return server_.port(); }
  // Connections accepted so far.
  int connections() const { return server_.acceptedCount(); }
  // Connections whose serving ended: the proxy closed or reset them, or a
  // handler closed them.
  int finishedConnections() const { return finished_.load(); }
  // Every byte received from the proxy, on every connection.
  uint64_t bytesReceived() const { return bytes_received_.load(); }
  // Requests recorded so far, in arrival order.
  std::vector<UpstreamRequest> requests() const;
  size_t requestCount() const;
  // Waits (bounded) until at least n requests were recorded.
  bool waitForRequests(size_t n, std::chrono::milliseconds timeout);
  // The last recorded request (nullopt when none).
  std::optional<UpstreamRequest> lastRequest() const;
  // Stops accepting, ends live connections, joins threads (the destructor does it).
  void stop() { server_.stop(); }

 private:
  void serve(Conn& conn);

  Handler handler_;
  UpstreamOptions options_;
  std::atomic<int> next_conn_{0};
  std::atomic<int> finished_{0};
  std::atomic<uint64_t> bytes_received_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<UpstreamRequest> requests_;
  TestServer server_;  // last: its threads use the members above
};

// ---- Handlers ----

// 200; body "NAME METHOD TARGET\n"; header x-upstream: NAME plus `headers`.
HttpUpstream::Handler describeRequest(std::string name, HeaderList headers = {});
// A fixed response.
HttpUpstream::Handler respondWith(int status, std::string body, HeaderList headers = {});
// 200 with the request body as the response body; headers x-body-bytes and
// x-body-checksum (decimal) describe what arrived.
HttpUpstream::Handler echoBody();
// 200, Transfer-Encoding: chunked, the given chunks, then the trailers.
HttpUpstream::Handler chunkedWithTrailers(std::vector<std::string> chunks, HeaderList trailers);
// Waits `delay`, then sends 200 with `body`.
HttpUpstream::Handler slowResponse(std::chrono::milliseconds delay, std::string body);
// 200 with `body` (Content-Length), one byte every `interval`: the status
// line and head too unless `head_at_once`. Stops when the proxy goes away,
// and after `max_bytes` bytes at most (bounded), then closes.
HttpUpstream::Handler trickleResponse(std::chrono::milliseconds interval, std::string body, bool head_at_once,
                                      size_t max_bytes = 64);
// 200 with `length` bytes of pattern `seed` (Content-Length), written as
// fast as the proxy takes them.
HttpUpstream::Handler hugeResponse(uint64_t seed, uint64_t length);
// Declares Content-Length: declared, sends `sent` (< declared) bytes, then
// closes (or resets) the connection.
HttpUpstream::Handler closeMidResponse(uint64_t declared, uint64_t sent, bool reset = false);
// Closes (FIN) right after reading the request, without a byte of response.
HttpUpstream::Handler closeWithoutResponse();
// Sends bytes that are not an HTTP response, then closes.
HttpUpstream::Handler garbageResponse(std::string garbage = "SPAM SPAM SPAM\r\n\r\n");
// 200 with Connection: close, then closes.
HttpUpstream::Handler connectionClose(std::string body);
// Answers 200 (keep-alive, no Connection: close), then closes anyway after
// `delay`: a pooled connection the upstream dropped (0: at once, so the FIN
// may arrive with the response; > 0: while the connection sits idle in the pool).
HttpUpstream::Handler respondThenClose(std::string body, std::chrono::milliseconds delay = {});
// Never answers; holds the connection until the proxy closes it (bounded).
HttpUpstream::Handler neverAnswer();
// An upgrade request gets 101 Switching Protocols (Upgrade: websocket), then
// every byte is echoed until the peer's EOF, or until a read of exactly
// "__close__" (then FIN either way). Other requests get 400.
HttpUpstream::Handler websocketEcho();
// The handler of the longest matching path prefix; `fallback` otherwise.
HttpUpstream::Handler byPathPrefix(std::vector<std::pair<std::string, HttpUpstream::Handler>> routes,
                                   HttpUpstream::Handler fallback);

}  // namespace sluice::itest
