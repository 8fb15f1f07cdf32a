// Http2ServerCodec: an nghttp2 server session behind the codec contract.
// Bytes in go to nghttp2_session_mem_recv; frames out come back through its
// send callbacks into one buffer handed to the connection per batch.
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "proxy/http/authority.h"
#include "proxy/http/http2_codec.h"
#include "proxy/http/http2_headers.h"
#include "proxy/http/http2_session.h"
#include "proxy/log/log.h"
#include "proxy/stats/stats.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::http {
namespace {

constexpr size_t kMaxContinuations = 8;
constexpr size_t kMaxOutboundControlFrames = 1000;
constexpr uint32_t kMaxConsecutiveEmptyData = 1;
constexpr uint64_t kPriorityFramesPerStream = 100;
constexpr uint64_t kWindowUpdatesPerDataFrame = 10;
constexpr uint64_t kWindowUpdateAllowance = 100;
// Frames are gathered into one buffer per batch; past this it goes to the
// connection at once, so the connection's watermarks see it.
constexpr size_t kOutputBatch = 64 * 1024;
// The second GOAWAY of a drain follows the PING's ack, or this long.
constexpr auto kDrainPingWait = std::chrono::seconds(1);
constexpr std::array<uint8_t, 8> kDrainPing = {'s', 'l', 'd', 'r', 'a', 'i', 'n', 0};
constexpr std::array<uint8_t, 8> kKeepalivePing = {'s', 'l', 'k', 'e', 'e', 'p', 0, 0};

uint32_t errorCodeFor(StreamResetReason reason) {
  switch (reason) {
    case StreamResetReason::RefusedStream:
    case StreamResetReason::Overflow: return NGHTTP2_REFUSED_STREAM;
    case StreamResetReason::ProtocolError: return NGHTTP2_PROTOCOL_ERROR;
    case StreamResetReason::LocalReset: return NGHTTP2_CANCEL;
    default: return NGHTTP2_INTERNAL_ERROR;
  }
}

// One line a second per worker and kind: an attacker cannot flood the log.
enum class LogKind : uint8_t { RapidReset, Flood, HeaderOverflow, Protocol, Keepalive, kCount };
void logLimited(event::Loop& loop, LogKind kind, std::string_view peer, std::string_view what) {
  thread_local std::array<event::MonoTime, static_cast<size_t>(LogKind::kCount)> last{};
  auto& t = last[static_cast<size_t>(kind)];
  const auto now = loop.now();
  if (t != event::MonoTime{} && now - t < std::chrono::seconds(1)) return;
  t = now;
  std::string line = "http2: ";
  line.append(peer).append(": ").append(what);
  log::warn(line);
}

class Http2ServerCodec;

struct Stream final : MessageEncoder, event::DeferredDeletable {
  Stream(Http2ServerCodec& c, int32_t i) : codec(c), id(i) {}
  // One per request: the worker's last freed stream's memory serves the next.
  static void* operator new(size_t n) { return util::ThreadPoolAlloc<Stream>::allocate(n); }
  static void operator delete(void* p, size_t n) { util::ThreadPoolAlloc<Stream>::release(p, n); }
  void encodeHeaders(const HeaderMap& h, bool end_stream) override;
  void encodeData(net::Buffer& d, bool end_stream) override;
  void encodeTrailers(const HeaderMap& t) override;

  Http2ServerCodec& codec;
  const int32_t id;
  HeaderMap headers;   // the request's; the callee keeps a pointer to it
  HeaderMap trailers;  // the request's trailers
  HeaderMap response_trailers;
  net::Buffer in;   // the DATA frame being received
  net::Buffer out;  // response body the peer's window has not taken yet
  MessageDecoder* decoder = nullptr;  // null once the callee is done with the stream
  uint32_t header_bytes = 0;
  uint32_t header_count = 0;
  int read_disabled = 0;
  size_t unconsumed = 0;  // received while read-disabled: window not given back yet
  bool request_started = false;
  bool header_overflow = false;
  bool remote_end = false;
  bool response_started = false;
  bool local_end = false;  // the whole response has been given to us
  bool has_trailers = false;
  bool data_deferred = false;
  bool above_watermark = false;
  bool closed = false;
  bool rst_received = false;
};

class Http2ServerCodec final : public ServerCodec, private MessageEncoder {
 public:
  Http2ServerCodec(CodecOutput& out, ServerCodecCallbacks& callbacks, const CodecLimits& limits,
                   const config::Http2Settings& settings, Http2ServerContext ctx);
  ~Http2ServerCodec() override;

  std::optional<CodecError> dispatch(net::Buffer& data) override;
  bool hasPendingInput() const override { return false; }
  void resetStream(MessageEncoder& response, StreamResetReason reason) override;
  void readDisable(MessageEncoder& response, bool disable) override;
  void send100Continue() override;
  void dispatchEof() override {}
  bool closeAfterResponse() const override { return false; }
  void shutdownNotice() override;
  void goAway() override;
  MessageEncoder& rejectEncoder() override { return *this; }
  void onWriteBufferLowWatermark() override { sendPending(); }

  // For Stream.
  void encodeHeaders(Stream& s, const HeaderMap& h, bool end_stream);
  void encodeData(Stream& s, net::Buffer& d, bool end_stream);
  void encodeTrailers(Stream& s, const HeaderMap& t);

 private:
  // The reject encoder: a request that never became a stream. On HTTP/2
  // that is a connection-level failure: GOAWAY and close.
  void encodeHeaders(const HeaderMap&, bool end_stream) override {
    if (end_stream) fail(NGHTTP2_PROTOCOL_ERROR);
  }
  void encodeData(net::Buffer& d, bool end_stream) override {
    d.clear();
    if (end_stream) fail(NGHTTP2_PROTOCOL_ERROR);
  }
  void encodeTrailers(const HeaderMap&) override { fail(NGHTTP2_PROTOCOL_ERROR); }

  static Http2ServerCodec& self(void* p) { return *static_cast<Http2ServerCodec*>(p); }
  Stream* stream(int32_t id) {
    return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, id));
  }

  // nghttp2 callbacks.
  static ssize_t onSend(nghttp2_session*, const uint8_t* data, size_t length, int, void* user);
  static int onSendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd, size_t length,
                        nghttp2_data_source* source, void* user);
  static ssize_t onReadData(nghttp2_session*, int32_t id, uint8_t*, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void* user);
  static int onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user);
  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t flags, void* user);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onDataChunk(nghttp2_session*, uint8_t flags, int32_t id, const uint8_t* data, size_t len, void* user);
  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t error_code, void* user);
  static int onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user);

  int requestHeadersDone(Stream& s, bool end_stream);
  // Rapid Reset: a token bucket over the streams the client abandons, by
  // RST_STREAM or by a stream error it provokes; false when empty.
  bool takeResetToken();
  int dataFrameDone(Stream& s, const nghttp2_frame& frame);
  int onPing(const nghttp2_frame& frame);
  // Answers a request that cannot go on (431, 400) from here: it never
  // becomes a stream of the callee.
  void localReply(Stream& s, int status, std::string_view detail);
  void responseComplete(Stream& s);
  // Ends a stream the codec cannot carry on (RST_STREAM `code`); a callee
  // that holds it hears onStreamReset(`reason`).
  void abandon(Stream& s, uint32_t code, StreamResetReason reason);
  void checkWatermark(Stream& s);
  void submitResponseHeaders(Stream& s, const HeaderMap& h, bool end_stream, bool informational);

  // A defence tripped: GOAWAY ENHANCE_YOUR_CALM, counted and logged.
  int calm(stats::Stat& stat, LogKind kind, std::string_view what);
  // Ends the session with `code` (GOAWAY) and closes the connection.
  void fail(uint32_t code);
  void sendPending();
  void flushOutput();
  void sendFinalGoAway();
  void onKeepalive();

  CodecOutput& out_;
  ServerCodecCallbacks& callbacks_;
  const CodecLimits limits_;
  const config::Http2Settings settings_;
  Http2ServerContext ctx_;
  nghttp2_session* session_ = nullptr;
  // Pooled nodes: a stream's entry costs no malloc once the worker has freed one.
  using StreamEntry = std::pair<const int32_t, std::unique_ptr<Stream>>;
  std::unordered_map<int32_t, std::unique_ptr<Stream>, std::hash<int32_t>, std::equal_to<int32_t>,
                     util::PoolAllocator<StreamEntry>>
      streams_;
  net::Buffer output_;
  Http2HeaderBlock block_;
  Stream* decoding_ = nullptr;  // the stream whose request headers are being delivered
  int in_recv_ = 0;
  bool sending_ = false;
  bool closed_ = false;
  bool draining_ = false;
  bool final_goaway_ = false;
  uint32_t fail_code_ = NGHTTP2_NO_ERROR;
  // Defences.
  uint32_t consecutive_empty_data_ = 0;
  uint64_t streams_opened_ = 0;
  int32_t highest_stream_id_ = 0;       // the highest id a HEADERS frame has named
  std::array<int32_t, 64> reset_ids_{};  // the streams we reset last (a ring)
  size_t next_reset_ = 0;
  uint64_t priority_frames_ = 0;
  uint64_t window_updates_ = 0;
  uint64_t data_frames_sent_ = 0;
  double reset_tokens_;
  event::MonoTime reset_refill_{};
  // Frames the encode calls of one loop turn submitted go out in one
  // nghttp2_session_send at its end, not one per call.
  struct SendSoon final : event::SoonTask {
    explicit SendSoon(Http2ServerCodec& c) : SoonTask(c.ctx_.loop), codec(c) {}
    void runSoon() override { codec.sendPending(); }
    Http2ServerCodec& codec;
  };
  SendSoon send_soon_{*this};
  std::unique_ptr<event::Timer> drain_timer_;
  std::unique_ptr<event::Timer> keepalive_timer_;
  std::unique_ptr<event::Timer> keepalive_timeout_timer_;
};

void Stream::encodeHeaders(const HeaderMap& h, bool end_stream) { codec.encodeHeaders(*this, h, end_stream); }
void Stream::encodeData(net::Buffer& d, bool end_stream) { codec.encodeData(*this, d, end_stream); }
void Stream::encodeTrailers(const HeaderMap& t) { codec.encodeTrailers(*this, t); }

Http2ServerCodec::Http2ServerCodec(CodecOutput& out, ServerCodecCallbacks& callbacks, const CodecLimits& limits,
                                   const config::Http2Settings& settings, Http2ServerContext ctx)
    : out_(out),
      callbacks_(callbacks),
      limits_(limits),
      settings_(settings),
      ctx_(std::move(ctx)),
      reset_tokens_(settings.max_stream_resets_burst) {
  const Http2SessionCallbacks session_callbacks{&onSend,        &onSendData,  &onBeginHeaders, &onHeader,
                                                &onFrameRecv,   &onDataChunk, &onStreamClose,  &onFrameSend,
                                                &onBeginFrame};
  session_ = newHttp2Session(Http2Role::Server, this, session_callbacks, [&](nghttp2_option* opt) {
    nghttp2_option_set_max_continuations(opt, kMaxContinuations);
    nghttp2_option_set_max_outbound_ack(opt, kMaxOutboundControlFrames);
    // Our own Rapid Reset bound (ENHANCE_YOUR_CALM, counted) trips first;
    // nghttp2's stays behind it as a backstop.
    nghttp2_option_set_stream_reset_rate_limit(opt, 2ull * settings.max_stream_resets_burst,
                                               2ull * settings.max_stream_resets_per_second);
  });
  const nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_stream_window_size},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, settings.max_frame_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.max_request_headers_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  submitHttp2Settings(session_, iv, settings.initial_connection_window_size);
  if (settings.keepalive_interval.count() > 0) {
    keepalive_timer_ = ctx_.loop.createTimer([this] { onKeepalive(); });
    keepalive_timeout_timer_ = ctx_.loop.createTimer([this] {
      ctx_.stats.downstream_h2_keepalive_timeout.inc();
      logLimited(ctx_.loop, LogKind::Keepalive, ctx_.peer, "keepalive PING not answered; closing");
      fail(NGHTTP2_NO_ERROR);
    });
    keepalive_timer_->enable(settings.keepalive_interval);
  }
}

Http2ServerCodec::~Http2ServerCodec() { nghttp2_session_del(session_); }

std::optional<CodecError> Http2ServerCodec::dispatch(net::Buffer& data) {
  if (closed_) {
    data.clear();
    return std::nullopt;
  }
  iovec iov[64];
  while (!data.empty() && !closed_) {
    const size_t n = data.peek(iov, 64);
    size_t taken = 0;
    ssize_t rv = 0;
    ++in_recv_;
    // A callback may end the connection, which clears `data` under us:
    // then feed nghttp2 no further.
    const size_t before = data.length();
    for (size_t i = 0; i < n && rv >= 0 && !closed_ && data.length() == before; ++i) {
      rv = nghttp2_session_mem_recv(session_, static_cast<const uint8_t*>(iov[i].iov_base), iov[i].iov_len);
      if (rv >= 0) taken += iov[i].iov_len;
    }
    --in_recv_;
    if (data.length() != before) return std::nullopt;
    data.drain(std::min(taken, data.length()));
    if (rv < 0) {
      data.clear();
      switch (rv) {
        case NGHTTP2_ERR_FLOODED:
          calm(ctx_.stats.downstream_h2_flood, LogKind::Flood, "control frames queued for a peer that does not read");
          break;
        case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
          calm(ctx_.stats.downstream_h2_header_overflow, LogKind::HeaderOverflow,
               "too many CONTINUATION frames");
          break;
        case NGHTTP2_ERR_CALLBACK_FAILURE:
          break;  // a defence already said why (fail_code_)
        default:
          ctx_.stats.downstream_h2_protocol_error.inc();
          logLimited(ctx_.loop, LogKind::Protocol, ctx_.peer, nghttp2_strerror(static_cast<int>(rv)));
          if (fail_code_ == NGHTTP2_NO_ERROR) fail_code_ = NGHTTP2_PROTOCOL_ERROR;
      }
      fail(fail_code_);
      return std::nullopt;
    }
  }
  sendPending();
  return std::nullopt;
}

void Http2ServerCodec::fail(uint32_t code) {
  if (closed_) return;
  nghttp2_session_terminate_session(session_, code);
  sendPending();
  closed_ = true;
  flushOutput();
  out_.closeConnection();
}

int Http2ServerCodec::calm(stats::Stat& stat, LogKind kind, std::string_view what) {
  if (fail_code_ == NGHTTP2_NO_ERROR) {
    stat.inc();
    logLimited(ctx_.loop, kind, ctx_.peer, std::string(what) + ": GOAWAY ENHANCE_YOUR_CALM");
  }
  fail_code_ = NGHTTP2_ENHANCE_YOUR_CALM;
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

void Http2ServerCodec::sendPending() {
  if (in_recv_ > 0 || sending_ || closed_) return;
  sending_ = true;
  const int rv = nghttp2_session_send(session_);
  sending_ = false;
  flushOutput();
  if (rv != 0) {
    closed_ = true;
    out_.closeConnection();
    return;
  }
  // After a GOAWAY with no stream left (or a terminated session) nghttp2 wants nothing more.
  if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
    closed_ = true;
    out_.closeConnection();
  }
}

void Http2ServerCodec::flushOutput() {
  if (!output_.empty()) out_.writeBytes(output_, false);
}

ssize_t Http2ServerCodec::onSend(nghttp2_session*, const uint8_t* data, size_t length, int, void* user) {
  auto& c = self(user);
  if (c.out_.aboveWriteBufferHighWatermark()) return NGHTTP2_ERR_WOULDBLOCK;
  c.output_.add({reinterpret_cast<const char*>(data), length});
  if (c.output_.length() >= kOutputBatch) c.flushOutput();
  return static_cast<ssize_t>(length);
}

int Http2ServerCodec::onSendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd, size_t length,
                                 nghttp2_data_source* source, void* user) {
  auto& c = self(user);
  auto& s = *static_cast<Stream*>(source->ptr);
  if (c.out_.aboveWriteBufferHighWatermark()) return NGHTTP2_ERR_WOULDBLOCK;
  c.output_.add({reinterpret_cast<const char*>(framehd), 9});
  // The body's one trip through user space: slices move, bytes stay.
  c.output_.move(s.out, length);
  ++c.data_frames_sent_;
  c.checkWatermark(s);
  if (c.output_.length() >= kOutputBatch) c.flushOutput();
  return 0;
}

ssize_t Http2ServerCodec::onReadData(nghttp2_session* session, int32_t id, uint8_t*, size_t length, uint32_t* flags,
                                     nghttp2_data_source* source, void* user) {
  auto& s = *static_cast<Stream*>(source->ptr);
  return readBody(session, id, length, flags, s.out, s.local_end, s.data_deferred,
                  s.has_trailers ? &s.response_trailers : nullptr, self(user).block_);
}

// RFC 9113 5.1.1: a client's HEADERS opens a stream with an id above every
// id it used before. One at or below that, on a stream that is not open,
// names a closed (or skipped, hence closed) stream: a connection error
// (PROTOCOL_ERROR), unless we reset that stream ourselves, after which 5.1
// has us ignore what was already on its way (nghttp2 then drops the frame).
// The session keeps no closed streams to tell it any of this.
int Http2ServerCodec::onBeginFrame(nghttp2_session* session, const nghttp2_frame_hd* hd, void* user) {
  if (hd->type != NGHTTP2_HEADERS) return 0;
  auto& c = self(user);
  if (hd->stream_id > c.highest_stream_id_) {
    c.highest_stream_id_ = hd->stream_id;
    return 0;
  }
  if (hd->stream_id == 0 || nghttp2_session_find_stream(session, hd->stream_id) != nullptr) return 0;
  if (std::find(c.reset_ids_.begin(), c.reset_ids_.end(), hd->stream_id) != c.reset_ids_.end()) return 0;
  c.ctx_.stats.downstream_h2_protocol_error.inc();
  logLimited(c.ctx_.loop, LogKind::Protocol, c.ctx_.peer, "HEADERS on closed stream " + std::to_string(hd->stream_id));
  c.fail_code_ = NGHTTP2_PROTOCOL_ERROR;
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

int Http2ServerCodec::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto& c = self(user);
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    auto s = std::make_unique<Stream>(c, frame->hd.stream_id);
    nghttp2_session_set_stream_user_data(c.session_, frame->hd.stream_id, s.get());
    c.streams_.emplace(frame->hd.stream_id, std::move(s));
    ++c.streams_opened_;
  } else if (Stream* s = c.stream(frame->hd.stream_id)) {
    s->header_bytes = 0;
    s->header_count = 0;
  }
  return 0;
}

int Http2ServerCodec::onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                               const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  auto& c = self(user);
  Stream* s = c.stream(frame->hd.stream_id);
  if (s == nullptr || s->header_overflow) return 0;
  // As HPACK decodes them, so an expanding block (HPACK bomb) is cut here.
  s->header_bytes += static_cast<uint32_t>(namelen + valuelen);
  if (s->header_bytes > c.limits_.max_request_headers_bytes || ++s->header_count > c.limits_.max_headers_count) {
    s->header_overflow = true;
    c.ctx_.stats.downstream_h2_header_overflow.inc();
    return 0;
  }
  const std::string_view n(reinterpret_cast<const char*>(name), namelen);
  const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  (frame->headers.cat == NGHTTP2_HCAT_REQUEST ? s->headers : s->trailers).add(n, v);
  return 0;
}

int Http2ServerCodec::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto& c = self(user);
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_DATA) {
    if (frame->hd.length == 0 && !end_stream) {
      if (++c.consecutive_empty_data_ > kMaxConsecutiveEmptyData)
        return c.calm(c.ctx_.stats.downstream_h2_flood, LogKind::Flood, "empty DATA frames");
    } else {
      c.consecutive_empty_data_ = 0;
    }
  } else if (frame->hd.type != NGHTTP2_CONTINUATION) {
    c.consecutive_empty_data_ = 0;
  }
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      Stream* s = c.stream(frame->hd.stream_id);
      if (s == nullptr) return 0;
      if (!s->request_started) return c.requestHeadersDone(*s, end_stream);
      // Trailers (nghttp2 has checked they end the stream).
      s->remote_end = true;
      if (s->header_overflow) {
        // The callee holds the stream: it must hear that it ended.
        c.abandon(*s, NGHTTP2_PROTOCOL_ERROR, StreamResetReason::ProtocolError);
      } else if (s->decoder != nullptr) {
        s->decoder->decodeTrailers(s->trailers);
      }
      return 0;
    }
    case NGHTTP2_DATA:
      if (Stream* s = c.stream(frame->hd.stream_id)) return c.dataFrameDone(*s, *frame);
      return 0;
    case NGHTTP2_RST_STREAM: {
      c.ctx_.stats.downstream_h2_rx_reset.inc();
      Stream* s = c.stream(frame->hd.stream_id);
      if (s != nullptr) s->rst_received = true;
      if (!c.takeResetToken())
        return c.calm(c.ctx_.stats.downstream_h2_rapid_reset, LogKind::RapidReset,
                      "streams reset faster than max_stream_resets_per_second");
      return 0;
    }
    case NGHTTP2_PRIORITY:
      if (++c.priority_frames_ > kPriorityFramesPerStream * (c.streams_opened_ + 1))
        return c.calm(c.ctx_.stats.downstream_h2_flood, LogKind::Flood, "PRIORITY frames");
      return 0;
    case NGHTTP2_WINDOW_UPDATE:
      if (++c.window_updates_ > kWindowUpdateAllowance + kWindowUpdatesPerDataFrame * c.data_frames_sent_)
        return c.calm(c.ctx_.stats.downstream_h2_flood, LogKind::Flood, "WINDOW_UPDATE frames");
      return 0;
    case NGHTTP2_PING:
      return c.onPing(*frame);
    default:
      return 0;
  }
}

bool Http2ServerCodec::takeResetToken() {
  const auto now = ctx_.loop.now();
  if (reset_refill_ != event::MonoTime{}) {
    const double secs = std::chrono::duration<double>(now - reset_refill_).count();
    reset_tokens_ = std::min<double>(settings_.max_stream_resets_burst,
                                     reset_tokens_ + secs * settings_.max_stream_resets_per_second);
  }
  reset_refill_ = now;
  if (reset_tokens_ < 1) return false;
  reset_tokens_ -= 1;
  return true;
}

int Http2ServerCodec::requestHeadersDone(Stream& s, bool end_stream) {
  s.request_started = true;
  s.remote_end = end_stream;
  if (s.header_overflow) {
    localReply(s, 431, "request header list too large");
    return 0;
  }
  HeaderMap& h = s.headers;
  // RFC 9113 8.3.1: Host stands in for a missing :authority and must agree with it.
  if (auto host = h.get("host")) {
    const std::string value(*host);
    h.remove("host");
    if (auto authority = h.get(headers::kAuthority)) {
      if (!equalsIgnoreCase(*authority, value)) {
        localReply(s, 400, "host and :authority differ");
        return 0;
      }
    } else {
      h.add(headers::kAuthority, value);
    }
  }
  if (h.method() == "CONNECT") {
    // Tunnels over HTTP/2 streams are not built (README: "HTTP/2 and gRPC").
    localReply(s, 501, "CONNECT is not supported");
    return 0;
  }
  const auto authority = h.get(headers::kAuthority);
  if (!authority) {
    localReply(s, 400, "missing :authority");
    return 0;
  }
  // The HTTP/1 Host rule (RFC 9112 3.2) holds here too: routes and the
  // upstream must read one authority (RFC 9113 8.3.1: no userinfo).
  if (const AuthorityError e = checkAuthority(*authority); e != AuthorityError::None) {
    localReply(s, 400, authorityErrorText(e));
    return 0;
  }
  // RFC 9113 8.2.3: cookie crumbs are one field again for HTTP/1.
  if (h.has("cookie")) {  // most requests have none, and has() knows without a walk
    size_t cookies = 0;
    std::string joined;
    h.forEachField([&](std::string_view n, std::string_view v) {
      if (!equalsIgnoreCase(n, "cookie")) return;
      if (cookies++ > 0) joined.append("; ");
      joined.append(v);
    });
    if (cookies > 1) h.set("cookie", joined);
  }

  s.decoder = &callbacks_.onNewRequest(s);
  decoding_ = &s;
  s.decoder->decodeHeaders(h, end_stream);
  decoding_ = nullptr;
  return 0;
}

int Http2ServerCodec::dataFrameDone(Stream& s, const nghttp2_frame& frame) {
  const bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (end_stream) s.remote_end = true;
  if (s.decoder != nullptr) {
    s.decoder->decodeData(s.in, end_stream);
  }
  s.in.clear();
  return 0;
}

int Http2ServerCodec::onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len,
                                  void* user) {
  auto& c = self(user);
  // Each stream's window bounds what it holds, so the connection's comes back at once.
  nghttp2_session_consume_connection(session, len);
  Stream* s = c.stream(id);
  if (s == nullptr || s->decoder == nullptr) {
    nghttp2_session_consume_stream(session, id, len);
    return 0;
  }
  s->in.add({reinterpret_cast<const char*>(data), len});
  if (s->read_disabled > 0) {
    s->unconsumed += len;
  } else {
    nghttp2_session_consume_stream(session, id, len);
  }
  return 0;
}

int Http2ServerCodec::onPing(const nghttp2_frame& frame) {
  if ((frame.hd.flags & NGHTTP2_FLAG_ACK) == 0) return 0;
  if (std::memcmp(frame.ping.opaque_data, kDrainPing.data(), 8) == 0) {
    sendFinalGoAway();
  } else if (std::memcmp(frame.ping.opaque_data, kKeepalivePing.data(), 8) == 0 && keepalive_timeout_timer_) {
    keepalive_timeout_timer_->disable();
    keepalive_timer_->enable(settings_.keepalive_interval);
  }
  return 0;
}

int Http2ServerCodec::onStreamClose(nghttp2_session*, int32_t id, uint32_t error_code, void* user) {
  auto& c = self(user);
  auto it = c.streams_.find(id);
  if (it == c.streams_.end()) return 0;
  std::unique_ptr<Stream> s = std::move(it->second);
  c.streams_.erase(it);
  s->closed = true;
  int rv = 0;
  if (s->decoder != nullptr) {
    s->decoder = nullptr;
    const StreamResetReason reason = !s->rst_received                     ? StreamResetReason::ProtocolError
                                     : error_code == NGHTTP2_REFUSED_STREAM ? StreamResetReason::RefusedStream
                                                                            : StreamResetReason::RemoteReset;
    c.callbacks_.onStreamReset(*s, reason);
    // A stream error the client provoked (a bad WINDOW_UPDATE, DATA past
    // content-length) cancels work like a reset it sent: same budget.
    if (!s->rst_received && !c.takeResetToken())
      rv = c.calm(c.ctx_.stats.downstream_h2_rapid_reset, LogKind::RapidReset,
                  "stream errors provoked faster than max_stream_resets_per_second");
  }
  // The callee may still name it until the end of this turn.
  c.ctx_.loop.deferredDelete(std::move(s));
  return rv;
}

int Http2ServerCodec::onFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  auto& c = self(user);
  if (frame->hd.type == NGHTTP2_RST_STREAM) {
    c.ctx_.stats.downstream_h2_tx_reset.inc();
    c.reset_ids_[c.next_reset_++ % c.reset_ids_.size()] = frame->hd.stream_id;
  }
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR &&
      c.fail_code_ == NGHTTP2_NO_ERROR) {
    // Most connection errors (frame, stream-state, flow-control and HPACK
    // rules) nghttp2 finds and answers itself, with mem_recv still
    // succeeding: this GOAWAY is the only sign. Defences and the errors
    // mem_recv returns were counted where they were found (fail_code_ set).
    c.fail_code_ = frame->goaway.error_code;
    c.ctx_.stats.downstream_h2_protocol_error.inc();
    std::string what = "GOAWAY ";
    what.append(nghttp2_http2_strerror(frame->goaway.error_code));
    const auto& g = frame->goaway;
    if (g.opaque_data_len > 0)
      what.append(": ").append(reinterpret_cast<const char*>(g.opaque_data), g.opaque_data_len);
    logLimited(c.ctx_.loop, LogKind::Protocol, c.ctx_.peer, what);
  }
  if ((frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) ||
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0)
    return 0;
  // Our response is whole before the request is (8.1): tell the client to stop sending it.
  Stream* s = c.stream(frame->hd.stream_id);
  if (s != nullptr && !s->remote_end)
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
  return 0;
}

void Http2ServerCodec::submitResponseHeaders(Stream& s, const HeaderMap& h, bool end_stream, bool informational) {
  auto& nv = block_.build(h, Http2HeaderBlock::Kind::Response);
  if (informational) {
    nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s.id, nullptr, nv.data(), nv.size(), nullptr);
    return;
  }
  s.response_started = true;
  if (end_stream) {
    nghttp2_submit_response(session_, s.id, nv.data(), nv.size(), nullptr);
  } else {
    nghttp2_data_provider prd;
    prd.source.ptr = &s;
    prd.read_callback = &onReadData;
    nghttp2_submit_response(session_, s.id, nv.data(), nv.size(), &prd);
  }
}

void Http2ServerCodec::encodeHeaders(Stream& s, const HeaderMap& h, bool end_stream) {
  if (s.closed || s.local_end || closed_) return;
  const int status = h.status();
  if (status == 101) {
    // No Upgrade on HTTP/2 (8.6): the upstream's switch cannot reach the client.
    abandon(s, NGHTTP2_PROTOCOL_ERROR, StreamResetReason::ProtocolError);
    return;
  }
  const bool informational = status >= 100 && status < 200;
  if (informational && end_stream) return;
  submitResponseHeaders(s, h, end_stream, informational);
  if (end_stream) {
    s.local_end = true;
    responseComplete(s);
  }
  send_soon_.schedule();
}

void Http2ServerCodec::encodeData(Stream& s, net::Buffer& d, bool end_stream) {
  if (s.closed || s.local_end || closed_ || !s.response_started) {
    d.clear();
    return;
  }
  s.out.move(d);
  if (end_stream) s.local_end = true;
  if (s.data_deferred) {
    s.data_deferred = false;
    nghttp2_session_resume_data(session_, s.id);
  }
  checkWatermark(s);
  if (end_stream) responseComplete(s);
  send_soon_.schedule();
}

void Http2ServerCodec::encodeTrailers(Stream& s, const HeaderMap& t) {
  if (s.closed || s.local_end || closed_ || !s.response_started) return;
  s.response_trailers = t;
  s.has_trailers = true;
  s.local_end = true;
  if (s.data_deferred) {
    s.data_deferred = false;
    nghttp2_session_resume_data(session_, s.id);
  }
  responseComplete(s);
  send_soon_.schedule();
}

void Http2ServerCodec::responseComplete(Stream& s) {
  // The callee is done with this stream: nothing more is decoded for it.
  s.decoder = nullptr;
}

void Http2ServerCodec::abandon(Stream& s, uint32_t code, StreamResetReason reason) {
  if (s.closed) return;
  s.local_end = true;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, code);
  ctx_.stats.downstream_h2_protocol_error.inc();
  if (s.decoder != nullptr) {
    s.decoder = nullptr;
    callbacks_.onStreamReset(s, reason);
  }
  send_soon_.schedule();
}

void Http2ServerCodec::checkWatermark(Stream& s) {
  const size_t limit = ctx_.stream_buffer_limit;
  if (!s.above_watermark && s.out.length() > limit) {
    s.above_watermark = true;
    if (s.decoder != nullptr || !s.local_end) callbacks_.onStreamWatermark(s, true);
  } else if (s.above_watermark && s.out.length() < limit / 2) {
    s.above_watermark = false;
    if (!s.local_end) callbacks_.onStreamWatermark(s, false);
  }
}

void Http2ServerCodec::localReply(Stream& s, int status, std::string_view detail) {
  const std::string body = std::string(detail) + "\n";
  HeaderMap h;
  h.setStatus(status);
  h.add("content-type", "text/plain");
  h.add("content-length", std::to_string(body.size()));
  encodeHeaders(s, h, false);
  net::Buffer b;
  b.add(body);
  encodeData(s, b, true);
}

void Http2ServerCodec::resetStream(MessageEncoder& response, StreamResetReason reason) {
  if (&response == static_cast<MessageEncoder*>(this)) return;
  auto& s = static_cast<Stream&>(response);
  if (s.closed || (s.local_end && s.decoder == nullptr)) return;
  s.decoder = nullptr;
  s.local_end = true;
  // s.out stays: a DATA frame nghttp2 has sized from it may still be due
  // before the RST_STREAM; it is freed with the stream.
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, errorCodeFor(reason));
  sendPending();
}

void Http2ServerCodec::readDisable(MessageEncoder& response, bool disable) {
  if (&response == static_cast<MessageEncoder*>(this)) return;
  auto& s = static_cast<Stream&>(response);
  if (disable) {
    ++s.read_disabled;
    return;
  }
  if (s.read_disabled == 0 || --s.read_disabled > 0) return;
  if (s.unconsumed > 0 && !s.closed && !closed_) {
    nghttp2_session_consume_stream(session_, s.id, s.unconsumed);
    s.unconsumed = 0;
    sendPending();
  }
}

void Http2ServerCodec::send100Continue() {
  Stream* s = decoding_;
  if (s == nullptr || s->response_started) return;
  const auto expect = s->headers.get("expect");
  if (!expect || !equalsIgnoreCase(*expect, "100-continue")) return;
  HeaderMap h;
  h.setStatus(100);
  submitResponseHeaders(*s, h, false, true);
  sendPending();
}

void Http2ServerCodec::shutdownNotice() {
  if (draining_ || closed_) return;
  draining_ = true;
  // Step one: "no new streams soon"; a PING's round trip later, step two
  // names the last stream taken, so none already on the wire is refused.
  nghttp2_submit_shutdown_notice(session_);
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, kDrainPing.data());
  drain_timer_ = ctx_.loop.createTimer([this] { sendFinalGoAway(); });
  drain_timer_->enable(kDrainPingWait);
  sendPending();
}

void Http2ServerCodec::sendFinalGoAway() {
  if (final_goaway_ || closed_) return;
  final_goaway_ = true;
  if (drain_timer_) drain_timer_->disable();
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  sendPending();
}

void Http2ServerCodec::goAway() {
  sendFinalGoAway();
  // Streams still open are given up: the callee hears it for each.
  std::vector<Stream*> open;
  for (auto& [id, s] : streams_)
    if (s->decoder != nullptr) open.push_back(s.get());
  for (Stream* s : open) {
    s->decoder = nullptr;
    // Taken and forwarded: not REFUSED_STREAM, which would invite a replay.
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    callbacks_.onStreamReset(*s, StreamResetReason::ConnectionDrained);
  }
  sendPending();
}

void Http2ServerCodec::onKeepalive() {
  if (closed_) return;
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, kKeepalivePing.data());
  keepalive_timeout_timer_->enable(settings_.keepalive_timeout);
  sendPending();
}

}  // namespace

std::unique_ptr<ServerCodec> makeHttp2ServerCodec(CodecOutput& out, ServerCodecCallbacks& callbacks,
                                                  const CodecLimits& limits, const config::Http2Settings& settings,
                                                  Http2ServerContext ctx) {
  return std::make_unique<Http2ServerCodec>(out, callbacks, limits, settings, std::move(ctx));
}

}  // namespace sluice::http
