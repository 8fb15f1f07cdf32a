#pragma once
// HTTP/2 codecs on nghttp2 (RFC 9113), behind the same contract as HTTP/1
// (codec.h): the connection manager, filters and router cannot tell them
// apart.
//
// Server side:
// - Many streams at once. A stream's MessageEncoder names it; it stays valid
//   until its response is complete, it is reset, or the connection closes
//   (and to the end of that loop turn, so a late readDisable is harmless).
// - Requests arrive with the pseudo-headers as sent (":method", ":scheme",
//   ":authority", ":path"); a `host` field becomes ":authority" when that is
//   missing and must agree with it when both are there (RFC 9113 8.3.1);
//   cookie fields are joined with "; " (8.2.3). nghttp2 checks the rest of
//   the message rules (8.2.2 connection-specific fields, 8.1.1
//   content-length against DATA, pseudo-header order and presence) and
//   resets a malformed stream with PROTOCOL_ERROR; the other streams go on.
//   A connection error (nghttp2's GOAWAY, or one it hands back to us) ends
//   the connection and is counted once (downstream_h2_protocol_error).
// - Flow control: a stream's window is given back only as its request body
//   is taken; readDisable() on a stream withholds its WINDOW_UPDATEs and
//   nothing else. The connection window is given back as bytes arrive (each
//   stream's own window bounds what it can hold).
// - Responses: connection-specific fields are dropped, names lower-cased;
//   body bytes are moved, not copied, from the stream's buffer into the
//   connection's (nghttp2's no-copy DATA path); trailers end the stream
//   with HEADERS. A stream's unsent response over `stream_buffer_limit`
//   raises onStreamWatermark(above) until it falls under half.
// - A response that completes before its request did ends the stream with
//   RST_STREAM(NO_ERROR) (8.1), and the connection goes on.
// - Drain: shutdownNotice() sends GOAWAY with the last stream id 2^31-1 and
//   a PING; the real GOAWAY (the last stream taken) follows the PING's ack,
//   or a second later, so a request already on the wire is never lost.
//   goAway() sends the real GOAWAY now and gives up open streams
//   (onStreamReset(ConnectionDrained)).
// - Defences, each counted in the listener's stats and logged at most once
//   a second per worker: a client resetting streams faster than
//   max_stream_resets_per_second (after a burst) gets GOAWAY
//   ENHANCE_YOUR_CALM (Rapid Reset, CVE-2023-44487); a header block is
//   bounded as it is decoded (max_request_headers_bytes, max_headers_count:
//   over -> 431, or a reset for trailers) and a HEADERS frame may have at most 8
//   CONTINUATIONs (CVE-2024-27316); control frames we owe a peer that does
//   not read queue up to 1,000 and then the connection is closed (PING and
//   SETTINGS floods, CVE-2019-9512/9515); more than one empty DATA frame in
//   a row (9518), PRIORITY frames beyond 100 per stream opened (9516), and
//   WINDOW_UPDATEs beyond 10 per DATA frame we sent (9517) end the
//   connection with ENHANCE_YOUR_CALM. Stream errors the client provokes
//   (nghttp2 resets the stream) spend the same budget as its RST_STREAMs.
// - A stream the codec itself must end while the callee holds it (a 101
//   from the upstream, trailers over the limit) is reset, and the callee
//   hears onStreamReset(ProtocolError).

#include <memory>
#include <string>

#include "config/http2_settings.h"
#include "proxy/event/loop.h"
#include "proxy/http/codec.h"

namespace sluice::stats {
struct ListenerStats;
}

namespace sluice::http {

struct Http2ServerContext {
  event::Loop& loop;
  stats::ListenerStats& stats;
  std::string peer;                       // for log lines: "10.0.0.1:4242"
  uint32_t stream_buffer_limit = 1 << 20;  // unsent response bytes per stream before onStreamWatermark
};

std::unique_ptr<ServerCodec> makeHttp2ServerCodec(CodecOutput& out, ServerCodecCallbacks& callbacks,
                                                  const CodecLimits& limits, const config::Http2Settings& settings,
                                                  Http2ServerContext ctx);

// The 24 bytes every HTTP/2 client sends first (RFC 9113 3.4).
inline constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace sluice::http
