#pragma once
// HTTP/1.1 codecs on Boost.Beast's basic_parser, plus the checks Beast does
// not make (obsolete line folding, bare CR/LF and NUL in the header block,
// Transfer-Encoding whose final coding is not chunked, ...), so a malformed
// request never reaches an upstream.
//
// Server side: keep-alive, pipelining (one request decoded at a time, the
// next only after the current response completes), Content-Length and
// chunked bodies both ways, trailers, Expect: 100-continue, HEAD, HTTP/1.0
// (close-delimited responses unless keep-alive), Connection: close, and
// Upgrade (after a 101 response the connection becomes a raw byte tunnel:
// decodeData/encodeData carry the bytes as is).
//
// Client side: the same for requests out and responses in; 1xx responses
// other than 101 are consumed; a response to HEAD has no body.
//
// Server contract details:
// - onNewRequest() is called once the request's header block is complete
//   and valid, right before decodeHeaders(). A malformed or over-limit
//   header block raises no callback at all: dispatch() returns the error and
//   the caller answers it (400/413/414/431/501) and closes. An error in a
//   chunked body comes after decodeHeaders(); the stream's encoder can still
//   answer it if no response has started.
// - Pipelining: dispatch() leaves an incomplete request in the caller's
//   buffer; after a request is decoded, the bytes behind it are taken in
//   and wait inside the codec until its response completes
//   (the last encode call, or encodeHeaders() of a 101). Then
//   hasPendingInput() says to call dispatch() again, with no new data, from
//   outside the encode call. More than 64 KiB waiting stops reading the
//   connection (CodecOutput::readDisable) until the response completes.
//   dispatch() is not re-entrant: a nested call from a decode callback
//   returns at once, its bytes left where they were; the outer call goes on.
// - Keep-alive: HTTP/1.1 unless "Connection: close" on either side;
//   HTTP/1.0 only with "Connection: keep-alive" (echoed). A response that
//   completes before its request was fully read closes the connection, as
//   does one without a length to an HTTP/1.0 client. writeBytes() gets
//   end_stream=true exactly on the last write before the connection closes.
// - Upgrade: a bodiless request with "Connection: upgrade" and "Upgrade"
//   keeps both fields and arrives as decodeHeaders(end_stream=false): its
//   stream stays open. After a 101 it carries the client's raw bytes as
//   decodeData(end_stream=false) and encodeData() writes raw (end_stream
//   closes the connection). A non-101 answer ends HTTP on that connection.
// - Request line and Host (RFC 9112 2.3, 3.2): a request-target in no valid
//   form (proxy/http/request_target.h) or an invalid, missing (HTTP/1.1) or
//   repeated Host (proxy/http/authority.h) is a 400; CONNECT is a 501; an
//   HTTP major version other than 1 is a 505, 1.2 to 1.9 read as 1.1. An
//   absolute-form target arrives as :authority (replacing Host) and an
//   origin-form :path. An HTTP/1.0 request may have no :authority.
// - Framing decisions: identical duplicate Content-Length values are
//   accepted and collapsed into one field; Transfer-Encoding must be exactly
//   "chunked" (final coding not chunked -> 400, "gzip, chunked" -> 501).
//
// Client side:
// - dispatchEof() ends a close-delimited response or a tunnel. With a
//   response expected or incomplete it returns status 503 ("upstream closed
//   before the response was complete": a connection reset, not a protocol
//   error). At any point it makes reusable() false; the caller should close
//   the connection, also when the FIN came with a response that completed.
// - A malformed response (or bytes with no request in flight) is status 502:
//   returned from dispatch() and also reported once through
//   ClientCodecCallbacks::onResponseError().

#include <memory>
#include <string>

#include "proxy/http/codec.h"

namespace sluice::http {

std::unique_ptr<ServerCodec> makeHttp1ServerCodec(CodecOutput& out, ServerCodecCallbacks& callbacks,
                                                  const CodecLimits& limits);
// `default_authority` is the Host of a request that has no :authority (an
// HTTP/1.0 client's without Host): the upstream's address, as a client
// addressing it directly would name it.
std::unique_ptr<ClientCodec> makeHttp1ClientCodec(CodecOutput& out, ClientCodecCallbacks& callbacks,
                                                  std::string default_authority = {});

}  // namespace sluice::http
