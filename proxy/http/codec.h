#pragma once
// Codec contract: turns the bytes of one connection into HTTP messages and
// back. HTTP/1.1 (http1_codec.h) and HTTP/2 (http2_codec.h) implement the
// same interfaces, so the connection manager, filters and router never see
// the wire format.
//
// Everything runs on the connection's worker thread. Callbacks are made from
// inside dispatch(); the callee must not destroy the codec from there (use
// deferred deletion).
//
// Streams: a server codec carries one or more streams, each one request and
// its response. A stream is named by its response encoder (the MessageEncoder
// given to onNewRequest()), which stays valid until the response is complete,
// the stream is reset, or the connection closes. HTTP/1 carries one stream at
// a time; HTTP/2 many at once, so per-stream state (timers, flow control,
// resets) never lives in the connection.
//
// Message shape: a HeaderMap with pseudo-headers (":method", ":path",
// ":authority", ":scheme" for requests; ":status" for responses), then zero or
// more data chunks, then optional trailers. end_stream marks the last call.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/http/header_map.h"
#include "proxy/http/stream_reset.h"
#include "proxy/net/buffer.h"

namespace sluice::http {

// Where a codec writes its bytes (the connection, in production; a buffer in tests).
class CodecOutput {
 public:
  virtual void writeBytes(net::Buffer& data, bool end_stream) = 0;
  // Stops (true) or resumes (false) reading the connection; counted, each
  // stop needs one resume. For a codec whose only way to stop one stream's
  // request is to stop the whole connection (HTTP/1). Default: nothing to
  // stop (a buffer in tests).
  virtual void readDisable(bool disable) {}
  // Whether the connection's write buffer is over its high watermark. A
  // codec that can hold frames back (HTTP/2) stops producing until
  // ServerCodec::onWriteBufferLowWatermark(), so a peer that does not read
  // cannot make us queue without bound.
  virtual bool aboveWriteBufferHighWatermark() const { return false; }
  // The codec is finished with the connection (HTTP/2: a connection error
  // or a missed keepalive PING, its GOAWAY already written): flush what was
  // written and close. No decode call follows.
  virtual void closeConnection() {}

 protected:
  ~CodecOutput() = default;
};

// Receives one decoded message (a request on the server side, a response on the client side).
class MessageDecoder {
 public:
  virtual void decodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  // `data` holds the next body bytes; the callee drains what it takes (normally all).
  virtual void decodeData(net::Buffer& data, bool end_stream) = 0;
  // Trailers end the message.
  virtual void decodeTrailers(HeaderMap& trailers) = 0;

 protected:
  ~MessageDecoder() = default;
};

// Sends one message. Calls come in order: headers, data*, trailers?; the
// last call has end_stream (trailers imply it).
class MessageEncoder {
 public:
  virtual void encodeHeaders(const HeaderMap& headers, bool end_stream) = 0;
  virtual void encodeData(net::Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;

 protected:
  ~MessageEncoder() = default;
};

// Limits applied while decoding requests; defaults follow common proxies.
struct CodecLimits {
  uint32_t max_request_headers_bytes = 60 * 1024;  // request line + headers -> 431 (414 if the URI alone)
  uint32_t max_uri_bytes = 8 * 1024;               // -> 414
  uint32_t max_headers_count = 100;                // -> 431
  uint64_t max_request_body_bytes = 0;             // 0 = unlimited; over -> 413
};

// How far a decoding error reaches.
enum class ErrorScope : uint8_t {
  // Only the stream being decoded fails: it may still answer `status` if
  // its response has not started. HTTP/2 resets just that stream; HTTP/1
  // cannot skip the rest of the request, so its connection closes after
  // the answer.
  Stream,
  // The whole connection fails (HTTP/1: a malformed or over-limit header
  // block, before any stream; HTTP/2: a connection error, GOAWAY): answer
  // through rejectEncoder() if no stream exists, then close.
  Connection,
};

// A decoding failure: the HTTP status to answer (400, 413, 414, 431), a
// short detail for logs ("both content-length and transfer-encoding"), and
// its reach.
struct CodecError {
  int status = 400;
  std::string detail;
  ErrorScope scope = ErrorScope::Connection;
  // With ErrorScope::Stream: the failing stream's response encoder.
  const MessageEncoder* stream = nullptr;
};

class ServerCodecCallbacks {
 public:
  // A request begins. `response` encodes its response; the returned decoder
  // receives the request. Both stay valid until the response is complete or
  // the connection closes.
  virtual MessageDecoder& onNewRequest(MessageEncoder& response) = 0;
  // The peer ended the stream of `response` without ending the connection
  // (HTTP/2 RST_STREAM, a stream error, or a stream the codec gives up at goAway()). No
  // decode or encode call for it follows. Not raised for a resetStream()
  // made by the callee, nor when the connection closes (the connection's
  // Closed event says that). HTTP/1 never raises it.
  virtual void onStreamReset(MessageEncoder& response, StreamResetReason reason) {}
  // The response of `response`'s stream has more bytes waiting for the peer
  // (its flow-control window) than the stream's limit (above), or has fallen
  // back under half of it (below): the producer of the response should
  // pause or resume. HTTP/1 never raises it (the connection's watermarks say it).
  virtual void onStreamWatermark(MessageEncoder& response, bool above) {}

 protected:
  ~ServerCodecCallbacks() = default;
};

class ServerCodec {
 public:
  virtual ~ServerCodec() = default;
  // Parses what it can of `data`, raising callbacks, and drains what it
  // took. An incomplete message stays in `data` for the caller to extend
  // with the next read. Whole messages it may not decode yet are taken in
  // (HTTP/1: requests pipelined behind one whose response is not complete,
  // parsed once it is; past a cap the codec stops reading through
  // CodecOutput::readDisable). Returns an error for a malformed or
  // over-limit request; its scope says whether one stream or the
  // connection failed (see ErrorScope).
  virtual std::optional<CodecError> dispatch(net::Buffer& data) = 0;
  // Received bytes not parsed yet that a completed response has unblocked:
  // call dispatch() again (with no new data) outside the callback that
  // completed it. Never true on a codec that parses everything at once.
  virtual bool hasPendingInput() const = 0;
  // Ends the stream of `response` now, both ways, from our side: nothing
  // more of its request is decoded and its response is cut where it is.
  // HTTP/2: RST_STREAM with a code for `reason`, the connection goes on.
  // HTTP/1: no way to end one exchange alone, so nothing more is parsed and
  // the caller closes the connection. Idempotent; a no-op once the
  // response is complete.
  virtual void resetStream(MessageEncoder& response, StreamResetReason reason) = 0;
  // Stops (true) or resumes (false) decoding the request of `response`'s
  // stream; counted, each stop needs one resume. HTTP/2 withholds that
  // stream's flow-control window (what is already inside the window still
  // arrives, at most one window); HTTP/1 stops reading the connection
  // (CodecOutput::readDisable), there being one stream at a time.
  virtual void readDisable(MessageEncoder& response, bool disable) = 0;
  // The request being decoded asked for Expect: 100-continue and no
  // response has started: send "100 Continue".
  virtual void send100Continue() = 0;
  // The client closed its sending side. In a tunnel (after 101) that ends
  // the client-to-upstream direction (decodeData with end_stream).
  virtual void dispatchEof() = 0;
  // Whether the connection must close after the current response
  // (Connection: close, HTTP/1.0 without keep-alive, a decode error, or on
  // HTTP/1 a response that started before its request was complete). Always
  // false on HTTP/2, whose streams end alone.
  virtual bool closeAfterResponse() const = 0;
  // The connection is draining (its listener was removed, changed, or the
  // proxy is shutting down): tell the client to go elsewhere without losing
  // a request it already sent. HTTP/1: the first response whose head is not
  // written yet carries `Connection: close`, and the connection ends after
  // it. Idempotent.
  virtual void shutdownNotice() = 0;
  // The drain timeout came: stop now. No new stream is accepted; streams
  // still open are given up (HTTP/2: GOAWAY with the last stream id, then
  // onStreamReset(ConnectionDrained) for the rest). HTTP/1: nothing to
  // send, a response in flight cannot be told; nothing more is parsed and
  // the caller closes the connection. Idempotent.
  virtual void goAway() = 0;
  // For a request that never became a stream (malformed, over a limit, too
  // slow to arrive): an encoder for one complete response, after which the
  // connection closes. Only while no response has started. Local replies
  // thus take the one road through the codec, whatever rejected the request.
  virtual MessageEncoder& rejectEncoder() = 0;
  // The connection's write buffer fell below its low watermark: a codec
  // that held frames back sends them.
  virtual void onWriteBufferLowWatermark() {}
};

class ClientCodecCallbacks {
 public:
  // The upstream sent something that is not a valid response (-> 502).
  virtual void onResponseError(std::string_view detail) = 0;

 protected:
  ~ClientCodecCallbacks() = default;
};

class ClientCodec {
 public:
  virtual ~ClientCodec() = default;
  // Starts a request; its response goes to `response`. One at a time on HTTP/1.
  virtual MessageEncoder& newRequest(MessageDecoder& response) = 0;
  virtual std::optional<CodecError> dispatch(net::Buffer& data) = 0;
  // The upstream closed its side: ends a close-delimited response, or is an
  // error when a response is incomplete.
  virtual std::optional<CodecError> dispatchEof() = 0;
  // After the last response: may the connection carry another request?
  virtual bool reusable() const = 0;
};

}  // namespace sluice::http
