// Http1ClientCodec: requests out, responses in, one exchange at a time.
#include <string>
#include <utility>

#include "proxy/http/content_length.h"
#include "proxy/http/hop_by_hop.h"
#include "proxy/http/http1_codec.h"
#include "proxy/http/http1_parser.h"

namespace sluice::http {
namespace {

// Responses are not subject to CodecLimits; these only bound memory.
constexpr Http1ParserLimits kResponseLimits{64 * 1024, 0, 200, 0};

// Methods whose request carries a body by definition; an empty one is sent
// as "content-length: 0" (RFC 9110 8.6).
bool expectsBody(std::string_view method) { return method == "POST" || method == "PUT" || method == "PATCH"; }

class Http1ClientCodec final : public ClientCodec, private MessageEncoder {
 public:
  Http1ClientCodec(CodecOutput& out, ClientCodecCallbacks& callbacks, std::string default_authority)
      : out_(out), callbacks_(callbacks), parser_(kResponseLimits), default_authority_(std::move(default_authority)) {}

  MessageEncoder& newRequest(MessageDecoder& response) override;
  std::optional<CodecError> dispatch(net::Buffer& data) override;
  std::optional<CodecError> dispatchEof() override;
  bool reusable() const override { return reusable_ && state_ == State::kIdle; }

 private:
  enum class State {
    kIdle,      // no exchange in flight
    kExchange,  // a request was started; its response is expected or arriving
    kTunnel,    // after a 101: raw bytes both ways
    kError,
    kClosed,  // the upstream closed
  };
  enum class Framing { kNone, kLength, kChunked, kRaw };

  void encodeHeaders(const HeaderMap& headers, bool end_stream) override;
  void encodeData(net::Buffer& data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  void write(bool end_stream);
  // The response is complete: returns its decoder for the final callback.
  MessageDecoder* endResponse();
  CodecError fail(int status, std::string_view detail);

  CodecOutput& out_;
  ClientCodecCallbacks& callbacks_;
  Http1Parser<false> parser_;
  const std::string default_authority_;
  MessageDecoder* decoder_ = nullptr;
  net::Buffer wire_;  // encoded request bytes on their way to out_
  State state_ = State::kIdle;
  Framing framing_ = Framing::kNone;
  uint64_t length_left_ = 0;
  bool request_started_ = false;
  bool request_complete_ = false;
  bool head_ = false;
  bool upgrade_ = false;
  bool reusable_ = true;
};

MessageEncoder& Http1ClientCodec::newRequest(MessageDecoder& response) {
  decoder_ = &response;
  state_ = State::kExchange;
  request_started_ = false;
  request_complete_ = false;
  head_ = false;
  upgrade_ = false;
  parser_.reset();
  return *this;
}

void Http1ClientCodec::encodeHeaders(const HeaderMap& headers, bool end_stream) {
  if (state_ != State::kExchange || request_started_) return;
  request_started_ = true;
  const std::string_view method = headers.method();
  head_ = method == "HEAD";
  parser_.reset(head_);  // Beast must know before the first response byte
  const auto connection = headers.get("connection");
  upgrade_ = connection && hasToken(*connection, "upgrade") && headers.has("upgrade");

  const std::string_view path = headers.path();
  wire_.add(method);
  wire_.add(" ");
  wire_.add(path.empty() ? std::string_view("/") : path);
  wire_.add(" HTTP/1.1\r\n");
  const auto authority = headers.get(headers::kAuthority);
  if (authority) {
    writeField(wire_, "host", *authority);
  } else if (!default_authority_.empty() && !headers.has("host")) {
    // An HTTP/1.0 request may come without Host; one sent as HTTP/1.1 must
    // have it (RFC 9112 3.2).
    writeField(wire_, "host", default_authority_);
  }

  const auto cl = headers.get("content-length");
  const std::optional<uint64_t> length = cl ? parseContentLength(*cl) : std::nullopt;
  headers.forEachField([&](std::string_view name, std::string_view value) {
    if (isHopByHop(name)) {
      if (equalsIgnoreCase(name, "te") && hasToken(value, "trailers")) writeField(wire_, name, "trailers");
      if (upgrade_ && equalsIgnoreCase(name, "upgrade")) writeField(wire_, name, value);
      return;
    }
    if (authority && equalsIgnoreCase(name, "host")) return;
    if (!length && equalsIgnoreCase(name, "content-length")) return;
    writeField(wire_, name, value);
  });
  if (upgrade_) {
    framing_ = Framing::kRaw;  // no body until the 101; then the tunnel
    writeField(wire_, "connection", "upgrade");
  } else if (length) {
    framing_ = Framing::kLength;
    length_left_ = *length;
  } else if (!end_stream) {
    framing_ = Framing::kChunked;
    writeField(wire_, "transfer-encoding", "chunked");
  } else {
    framing_ = Framing::kNone;
    if (expectsBody(method)) writeField(wire_, "content-length", "0");
  }
  wire_.add("\r\n");
  request_complete_ = end_stream;
  write(false);
}

void Http1ClientCodec::encodeData(net::Buffer& data, bool end_stream) {
  // After a 101 the stream is a tunnel, whatever end_stream the headers had.
  if (!request_started_ || (request_complete_ && state_ != State::kTunnel)) {
    data.clear();
    return;
  }
  switch (framing_) {
    case Framing::kRaw:
      wire_.move(data);
      break;
    case Framing::kLength: {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(length_left_, data.length()));
      wire_.move(data, n);
      length_left_ -= n;
      // A body that disagrees with its length desynchronizes the connection.
      if (!data.empty() || (end_stream && length_left_ > 0)) reusable_ = false;
      data.clear();
      break;
    }
    case Framing::kChunked:
      writeChunk(wire_, data, end_stream);
      break;
    case Framing::kNone:
      data.clear();
      break;
  }
  if (end_stream) request_complete_ = true;
  // The end of a tunnel is the end of the connection.
  const bool close = end_stream && framing_ == Framing::kRaw;
  if (!wire_.empty() || close) write(close);
}

void Http1ClientCodec::encodeTrailers(const HeaderMap& trailers) {
  if (!request_started_ || request_complete_) return;
  request_complete_ = true;
  if (framing_ == Framing::kChunked) {
    writeLastChunkWithTrailers(wire_, trailers);
    write(false);
  } else if (framing_ == Framing::kLength && length_left_ > 0) {
    reusable_ = false;
  }
}

std::optional<CodecError> Http1ClientCodec::dispatch(net::Buffer& data) {
  for (;;) {
    switch (state_) {
      case State::kIdle:
      case State::kClosed:
        if (data.empty()) return std::nullopt;
        return fail(502, "data from upstream with no request in flight");
      case State::kError:
        data.clear();
        return std::nullopt;
      case State::kTunnel:
        if (!data.empty()) {
          net::Buffer& raw = parser_.body();
          raw.move(data);
          decoder_->decodeData(raw, false);
        }
        return std::nullopt;
      case State::kExchange:
        break;
    }
    if (!parser_.started()) {
      if (!Http1Parser<false>::skipEmptyLines(data)) return std::nullopt;
      if (!request_started_) return fail(502, "response before the request was sent");
    }
    switch (parser_.next(data)) {
      case ParseEvent::kNeedMore:
        return std::nullopt;
      case ParseEvent::kError:
        return fail(parser_.error().status, parser_.error().detail);
      case ParseEvent::kHeaders: {
        const int status = parser_.status();
        if (status == 101) {
          if (!upgrade_) return fail(502, "101 response to a request without upgrade");
          state_ = State::kTunnel;
          reusable_ = false;
          decoder_->decodeHeaders(parser_.headers(), false);
          break;
        }
        if (status < 200) {
          parser_.reset(head_);  // interim response: the final one follows
          break;
        }
        // A declined upgrade leaves the request stream open: do not reuse.
        if (!parser_.keepAlive() || parser_.closeDelimited() || upgrade_) reusable_ = false;
        const bool end = parser_.complete();
        MessageDecoder* d = end ? endResponse() : decoder_;
        d->decodeHeaders(parser_.headers(), end);
        break;
      }
      case ParseEvent::kData: {
        const bool end = parser_.complete();
        MessageDecoder* d = end ? endResponse() : decoder_;
        d->decodeData(parser_.body(), end);
        break;
      }
      case ParseEvent::kTrailers:
        endResponse()->decodeTrailers(parser_.trailers());
        break;
    }
  }
}

std::optional<CodecError> Http1ClientCodec::dispatchEof() {
  switch (state_) {
    case State::kExchange: {
      if (parser_.eof() == ParseEvent::kError) {
        // A reset, not a malformed response: 503 and no onResponseError().
        state_ = State::kError;
        reusable_ = false;
        decoder_ = nullptr;
        return CodecError{503, "upstream closed before the response was complete"};
      }
      reusable_ = false;
      endResponse()->decodeData(parser_.body(), true);  // the end of a close-delimited body
      return std::nullopt;
    }
    case State::kTunnel: {
      MessageDecoder* d = decoder_;
      decoder_ = nullptr;
      state_ = State::kClosed;
      parser_.body().clear();
      d->decodeData(parser_.body(), true);
      return std::nullopt;
    }
    case State::kIdle:
      state_ = State::kClosed;
      reusable_ = false;
      return std::nullopt;
    case State::kError:
    case State::kClosed:
      return std::nullopt;
  }
  return std::nullopt;
}

void Http1ClientCodec::write(bool end_stream) {
  out_.writeBytes(wire_, end_stream);
  wire_.clear();
}

MessageDecoder* Http1ClientCodec::endResponse() {
  MessageDecoder* d = decoder_;
  decoder_ = nullptr;
  state_ = State::kIdle;
  // Unsent request bytes would be taken for the start of the next request.
  if (!request_complete_) reusable_ = false;
  return d;
}

CodecError Http1ClientCodec::fail(int status, std::string_view detail) {
  state_ = State::kError;
  reusable_ = false;
  decoder_ = nullptr;
  callbacks_.onResponseError(detail);
  return CodecError{status, std::string(detail)};
}

}  // namespace

std::unique_ptr<ClientCodec> makeHttp1ClientCodec(CodecOutput& out, ClientCodecCallbacks& callbacks,
                                                  std::string default_authority) {
  return std::make_unique<Http1ClientCodec>(out, callbacks, std::move(default_authority));
}

}  // namespace sluice::http
