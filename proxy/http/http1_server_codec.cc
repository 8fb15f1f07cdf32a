// Http1ServerCodec: requests in, responses out, one request at a time.

#include "proxy/http/content_length.h"
#include "proxy/http/hop_by_hop.h"
#include "proxy/http/http1_codec.h"
#include "proxy/http/http1_parser.h"

namespace sluice::http {
namespace {

// Pipelined requests held behind an outstanding response before the codec
// stops reading the connection.
constexpr size_t kMaxPipelinedInput = 64 * 1024;

class Http1ServerCodec final : public ServerCodec, private MessageEncoder {
 public:
  Http1ServerCodec(CodecOutput& out, ServerCodecCallbacks& callbacks, const CodecLimits& limits)
      : out_(out),
        callbacks_(callbacks),
        parser_(Http1ParserLimits{limits.max_request_headers_bytes, limits.max_uri_bytes, limits.max_headers_count,
                                  limits.max_request_body_bytes}) {}

  std::optional<CodecError> dispatch(net::Buffer& data) override;
  bool hasPendingInput() const override { return !input_.empty(); }
  void send100Continue() override;
  bool closeAfterResponse() const override { return close_; }
  void dispatchEof() override;
  void shutdownNotice() override { draining_ = true; }
  void goAway() override;
  void resetStream(MessageEncoder& response, StreamResetReason reason) override;
  void readDisable(MessageEncoder& response, bool disable) override { out_.readDisable(disable); }
  MessageEncoder& rejectEncoder() override {
    rejecting_ = true;
    req_ = Req::kError;  // nothing more is parsed; the response closes the connection
    return *this;
  }

 private:
  enum class Req {
    kIdle,          // between requests
    kDecoding,      // headers or body still arriving
    kDone,          // request fully decoded; waiting for its response
    kAwaitUpgrade,  // upgrade request decoded; a 101 turns the connection into a tunnel
    kTunnel,        // bytes pass through raw both ways
    kError,         // dispatch() reported an error; only the error response may follow
    kClosed,        // the connection closes after what was written
  };
  enum class Framing { kNone, kLength, kChunked, kClose, kRaw };

  void encodeHeaders(const HeaderMap& headers, bool end_stream) override;
  void encodeData(net::Buffer& data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  std::optional<CodecError> parse(net::Buffer& data);
  void write(bool end_stream);
  void endResponse();

  CodecOutput& out_;
  ServerCodecCallbacks& callbacks_;
  Http1Parser<true> parser_;
  MessageDecoder* decoder_ = nullptr;
  net::Buffer input_;  // received, not parsed yet (pipelined requests wait here)
  net::Buffer wire_;   // encoded response bytes on their way to out_
  Req req_ = Req::kIdle;
  Framing framing_ = Framing::kNone;
  uint64_t length_left_ = 0;
  bool response_started_ = false;
  bool close_ = false;
  bool continue_sent_ = false;
  bool dispatching_ = false;
  bool draining_ = false;
  bool going_away_ = false;
  bool rejecting_ = false;
  bool input_paused_ = false;  // stopped reading: too much pipelined behind a response
};

std::optional<CodecError> Http1ServerCodec::dispatch(net::Buffer& data) {
  // Behind a backlog, new bytes queue after it so requests keep their order.
  if (!input_.empty()) input_.moveCompact(data);
  // A decode callback may complete a response and call dispatch() again;
  // the outer loop picks up the next request instead.
  if (dispatching_) return std::nullopt;
  dispatching_ = true;
  struct Reset {
    bool& b;
    ~Reset() { b = false; }
  } reset{dispatching_};
  // A partial request stays in the caller's buffer, which the next read
  // extends in place (a client trickling bytes does not fragment it).
  auto err = parse(input_.empty() ? data : input_);
  const bool waiting = req_ == Req::kDone || req_ == Req::kAwaitUpgrade;
  if (err || !waiting) return err;
  // Requests pipelined behind an outstanding response wait here; past the
  // cap, stop reading so a client cannot queue unbounded bytes.
  input_.moveCompact(data);
  if (!input_paused_ && input_.length() > kMaxPipelinedInput) {
    input_paused_ = true;
    out_.readDisable(true);
  }
  return std::nullopt;
}

std::optional<CodecError> Http1ServerCodec::parse(net::Buffer& data) {
  for (;;) {
    switch (req_) {
      case Req::kIdle:
        if (going_away_) {
          req_ = Req::kClosed;  // past the drain timeout: no new request
          break;
        }
        if (!Http1Parser<true>::skipEmptyLines(data)) return std::nullopt;
        parser_.reset();
        req_ = Req::kDecoding;
        response_started_ = false;
        close_ = false;
        continue_sent_ = false;
        break;
      case Req::kDecoding:
        switch (parser_.next(data)) {
          case ParseEvent::kNeedMore:
            return std::nullopt;
          case ParseEvent::kError: {
            req_ = Req::kError;
            close_ = true;
            CodecError err = parser_.error();
            if (decoder_ != nullptr) {
              // In a body: the stream exists and may still answer.
              err.scope = ErrorScope::Stream;
              err.stream = this;
            }
            return err;
          }
          case ParseEvent::kHeaders: {
            if (!parser_.keepAlive()) close_ = true;
            // An upgrade request stays open: after a 101 its stream carries the tunnel.
            const bool upgrade = parser_.upgrade();
            const bool end = parser_.complete() && !upgrade;
            if (parser_.complete()) req_ = upgrade ? Req::kAwaitUpgrade : Req::kDone;
            // Only a valid header block makes a request: a malformed one is
            // answered by the caller from the returned error alone.
            decoder_ = &callbacks_.onNewRequest(*this);
            decoder_->decodeHeaders(parser_.headers(), end);
            break;
          }
          case ParseEvent::kData: {
            const bool end = parser_.complete();
            if (end) req_ = Req::kDone;
            decoder_->decodeData(parser_.body(), end);
            break;
          }
          case ParseEvent::kTrailers:
            req_ = Req::kDone;
            decoder_->decodeTrailers(parser_.trailers());
            break;
        }
        break;
      case Req::kTunnel:
        if (!data.empty()) {
          net::Buffer& raw = parser_.body();
          raw.move(data);
          decoder_->decodeData(raw, false);
        }
        return std::nullopt;
      case Req::kClosed:
        data.clear();  // nothing after a closing response is answered
        return std::nullopt;
      case Req::kDone:
      case Req::kAwaitUpgrade:
      case Req::kError:
        return std::nullopt;  // pipelined bytes wait (dispatch() keeps them)
    }
  }
}

void Http1ServerCodec::dispatchEof() {
  if (req_ != Req::kTunnel || decoder_ == nullptr) return;
  // The upstream direction of the tunnel ends; the other may still carry bytes.
  req_ = Req::kClosed;
  net::Buffer& raw = parser_.body();
  raw.clear();
  decoder_->decodeData(raw, true);
}

void Http1ServerCodec::goAway() {
  going_away_ = true;
  draining_ = true;
  if (req_ == Req::kIdle) req_ = Req::kClosed;
}

void Http1ServerCodec::resetStream(MessageEncoder& response, StreamResetReason) {
  // One exchange cannot end alone on HTTP/1: the rest of its request (and
  // any pipelined one) is never parsed, and the caller closes the connection.
  if (&response != this || decoder_ == nullptr) return;
  decoder_ = nullptr;
  close_ = true;
  req_ = Req::kClosed;
}

void Http1ServerCodec::send100Continue() {
  if (req_ != Req::kDecoding || !parser_.expectContinue() || response_started_ || continue_sent_) return;
  continue_sent_ = true;
  wire_.add("HTTP/1.1 100 Continue\r\n\r\n");
  write(false);
}

void Http1ServerCodec::encodeHeaders(const HeaderMap& headers, bool end_stream) {
  if (response_started_ || (decoder_ == nullptr && !rejecting_)) return;
  const int status = headers.status();
  const int minor = parser_.minor();
  if (status >= 100 && status < 200 && status != 101) {
    // An interim response; HTTP/1.0 clients do not expect one (RFC 9110 15.2).
    if (minor == 0) return;
    writeStatusLine(wire_, status);
    headers.forEachField([&](std::string_view name, std::string_view value) {
      if (!isHopByHop(name)) writeField(wire_, name, value);
    });
    wire_.add("\r\n");
    write(false);
    return;
  }
  response_started_ = true;
  const bool upgrade = status == 101 && req_ == Req::kAwaitUpgrade;
  // Unread request bytes (an early response, an error, a declined upgrade)
  // would be parsed as the next request: close instead.
  if (req_ != Req::kDone && !upgrade) close_ = true;
  if (status == 101 && !upgrade) close_ = true;  // nothing to switch to
  if (const auto c = headers.get("connection"); c && hasToken(*c, "close")) close_ = true;
  // Draining: this response tells the client, and the connection ends after
  // it. A tunnel already agreed to goes on until the drain timeout.
  if (draining_ && !upgrade) close_ = true;

  const auto cl = headers.get("content-length");
  const std::optional<uint64_t> length = cl ? parseContentLength(*cl) : std::nullopt;
  const bool no_body = parser_.isHead() || statusHasNoBody(status);
  bool add_zero_length = false;
  if (upgrade) {
    framing_ = Framing::kRaw;
  } else if (no_body) {
    framing_ = Framing::kNone;
  } else if (length) {
    framing_ = Framing::kLength;
    length_left_ = *length;
  } else if (end_stream) {
    framing_ = Framing::kLength;
    length_left_ = 0;
    add_zero_length = true;
  } else if (minor == 1) {
    framing_ = Framing::kChunked;
  } else {
    framing_ = Framing::kClose;
    close_ = true;
  }

  writeStatusLine(wire_, status);
  // 1xx and 204 must not carry Content-Length (RFC 9110 8.6); HEAD and 304 keep it.
  const bool drop_length = !length || status < 200 || status == 204;
  headers.forEachField([&](std::string_view name, std::string_view value) {
    if (isHopByHop(name) && !(upgrade && equalsIgnoreCase(name, "upgrade"))) return;
    if (drop_length && equalsIgnoreCase(name, "content-length")) return;
    writeField(wire_, name, value);
  });
  if (add_zero_length) writeField(wire_, "content-length", "0");
  if (framing_ == Framing::kChunked) writeField(wire_, "transfer-encoding", "chunked");
  if (upgrade) {
    writeField(wire_, "connection", "upgrade");
  } else if (close_) {
    writeField(wire_, "connection", "close");
  } else if (minor == 0) {
    writeField(wire_, "connection", "keep-alive");
  }
  wire_.add("\r\n");

  if (upgrade) {
    req_ = Req::kTunnel;
    close_ = true;  // the connection never returns to HTTP
    // Bytes queued behind the upgrade request are the tunnel's now: reading
    // must not stay stopped for the tunnel's whole life.
    if (input_paused_) {
      input_paused_ = false;
      out_.readDisable(false);
    }
  }
  if (end_stream) {
    write(close_);
    endResponse();
  } else {
    write(false);
  }
}

void Http1ServerCodec::encodeData(net::Buffer& data, bool end_stream) {
  if (!response_started_ || (decoder_ == nullptr && !rejecting_)) {
    data.clear();
    return;
  }
  switch (framing_) {
    case Framing::kRaw:
    case Framing::kClose:
      wire_.move(data);
      break;
    case Framing::kLength: {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(length_left_, data.length()));
      wire_.move(data, n);
      length_left_ -= n;
      if (!data.empty()) {
        // More than the declared length: the rest would be read as a response to the next request.
        data.clear();
        close_ = true;
      }
      if (end_stream && length_left_ > 0) close_ = true;  // short body: only EOF tells the client
      break;
    }
    case Framing::kChunked:
      writeChunk(wire_, data, end_stream);
      break;
    case Framing::kNone:
      data.clear();
      break;
  }
  if (end_stream) {
    write(close_);
    endResponse();
  } else if (!wire_.empty()) {
    write(false);
  }
}

void Http1ServerCodec::encodeTrailers(const HeaderMap& trailers) {
  if (!response_started_ || (decoder_ == nullptr && !rejecting_)) return;
  if (framing_ == Framing::kChunked) {
    writeLastChunkWithTrailers(wire_, trailers);
  } else if (framing_ == Framing::kLength && length_left_ > 0) {
    close_ = true;
  }
  write(close_);
  endResponse();
}

void Http1ServerCodec::write(bool end_stream) {
  out_.writeBytes(wire_, end_stream);
  wire_.clear();
}

void Http1ServerCodec::endResponse() {
  decoder_ = nullptr;
  req_ = close_ ? Req::kClosed : Req::kIdle;
  if (req_ == Req::kClosed) input_.clear();  // nothing after a closing response is answered
  if (input_paused_) {
    input_paused_ = false;
    out_.readDisable(false);
  }
}

}  // namespace

std::unique_ptr<ServerCodec> makeHttp1ServerCodec(CodecOutput& out, ServerCodecCallbacks& callbacks,
                                                  const CodecLimits& limits) {
  return std::make_unique<Http1ServerCodec>(out, callbacks, limits);
}

}  // namespace sluice::http
