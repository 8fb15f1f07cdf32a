#pragma once
// HTTP/1 wire pieces shared by Http1ServerCodec and Http1ClientCodec
// (internal to proxy/http; the rest of the proxy uses http1_codec.h).
//
// Http1Parser<isRequest> decodes one message at a time from a connection's
// input buffer into a HeaderMap, body bytes and trailers. Beast's
// basic_parser does the grammar; this class adds:
// - a pre-scan of the header block (bare CR, bare LF, NUL, obsolete line
//   folding, size/count/URI limits) before Beast sees any of it, which also
//   finds where the block ends across buffer slices;
// - framing rules Beast leaves to the caller (Content-Length with
//   Transfer-Encoding, final coding not chunked);
// - requests: the HTTP version (RFC 9110 2.5: 1.2 to 1.9 are read as 1.1,
//   other majors are a 505), the request-target's form
//   (proxy/http/request_target.h: an absolute-form authority becomes
//   :authority and its path :path) and Host (proxy/http/authority.h: one,
//   valid, and required from HTTP/1.1 on, RFC 9112 3.2);
// - removal of hop-by-hop fields, so a decoded message can be forwarded.
// Content-Length and close-delimited bodies bypass Beast and move buffer
// slices; chunked bodies go through Beast and are copied once.
//
// Pull style: next() returns one event at a time and the codec makes the
// MessageDecoder call, so no user callback runs inside Beast.

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http/codec.h"
#include "proxy/http/header_map.h"
#include "proxy/net/buffer.h"

namespace sluice::http {

struct Http1ParserLimits {
  uint32_t max_header_bytes = 60 * 1024;  // start line + fields; also caps a chunk line or trailer block
  uint32_t max_uri_bytes = 8 * 1024;      // requests only
  uint32_t max_fields = 100;
  uint64_t max_body_bytes = 0;  // 0 = unlimited
};

enum class ParseEvent {
  kNeedMore,  // nothing more to report until more bytes arrive
  kHeaders,   // headers() is ready
  kData,      // body() holds the next body bytes
  kTrailers,  // trailers() is ready; the message is complete
  kError,     // error() says why; reset() before parsing again
};

// Incremental scan of a header block that may arrive a byte at a time:
// resumes where the previous call stopped, so the total cost stays linear.
class HeaderScanner {
 public:
  enum class Result { kNeedMore, kComplete, kError };
  void reset() { *this = HeaderScanner(); }
  Result scan(const net::Buffer& in, const Http1ParserLimits& limits, bool request, CodecError& error);
  // Length of the block including its final empty line (after kComplete).
  size_t length() const { return total_; }
  // No byte of the block so far is a control other than HTAB, CR and LF
  // (which end lines): field values and the reason phrase need no check.
  bool plainText() const { return !controls_; }

 private:
  // The usual case: a whole block, clean, in the first slice. One pass of
  // 16-byte steps over it; false leaves every other case (a block cut
  // short, anything refused, limits) to the state machine, from the start.
  bool scanWhole(const char* data, size_t len, const Http1ParserLimits& limits, bool request);

  size_t total_ = 0;
  uint32_t lines_ = 0;  // complete lines so far
  uint32_t line_len_ = 0;
  uint32_t spaces_ = 0;  // SPs seen in the start line
  uint32_t uri_len_ = 0;
  bool cr_ = false;  // the previous byte was CR
  bool controls_ = false;
};

// Who reads a response head. Most responses have a plain head (status 2xx
// to 5xx, fields Beast would take as they are, Content-Length or no
// framing): the parser splits those itself, in one pass over bytes the
// scanner has checked, and hands everything else (1xx, chunked, Upgrade,
// lists in Content-Length, odd bytes) to Beast from the head on. kBeastOnly
// is for tests that compare the two readings.
enum class PlainHeads { kRead, kBeastOnly };

template <bool isRequest>
class Http1Parser {
 public:
  explicit Http1Parser(const Http1ParserLimits& limits, PlainHeads plain_heads = PlainHeads::kRead)
      : limits_(limits), plain_heads_(plain_heads) {}

  // Drops CRLFs before a message (RFC 9112 2.2: tolerated between requests).
  // True when a message's first byte is waiting in `in`.
  static bool skipEmptyLines(net::Buffer& in);

  // Starts the next message. no_body: the response to a HEAD request.
  void reset(bool no_body = false);
  // Parses `in` (draining what it consumed) up to the next event.
  ParseEvent next(net::Buffer& in);
  // The connection reached EOF: ends a close-delimited body (kData with
  // complete()); after a complete message nothing happens; anywhere else
  // (including before the first byte) it is an error.
  ParseEvent eof();

  // The last event ended the message.
  bool complete() const { return phase_ == Phase::kComplete; }
  // Some bytes of the current message were seen.
  bool started() const { return phase_ != Phase::kHead || scanning_; }
  HeaderMap& headers() { return headers_; }
  HeaderMap& trailers() { return trailers_; }
  net::Buffer& body() { return body_; }
  const CodecError& error() const { return error_; }

  // Valid from kHeaders on. A request's 1.2 to 1.9 reads as 1 (RFC 9110 2.5).
  int minor() const { return m_.minor; }
  // HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive".
  bool keepAlive() const { return m_.keep_alive; }
  // Requests: Connection: upgrade + Upgrade and no body. Responses: 101.
  bool upgrade() const { return m_.upgrade; }
  // Expect: 100-continue on an HTTP/1.1 request (the field itself is removed).
  bool expectContinue() const { return m_.expect_continue; }
  bool isHead() const { return m_.is_head; }
  bool closeDelimited() const { return phase_ == Phase::kEof; }
  int status() const { return m_.status; }
  // Beast read the current message's head (for tests).
  bool readByBeast() const { return beast_.has_value(); }

 private:
  class Beast final : public boost::beast::http::basic_parser<isRequest> {
   public:
    explicit Beast(Http1Parser& p) : p_(p) {}

   private:
    using sv = boost::beast::string_view;
    using ec_t = boost::beast::error_code;
    using field = boost::beast::http::field;
    void on_request_impl(boost::beast::http::verb, sv method, sv target, int version, ec_t& ec) override {
      p_.onRequestLine({method.data(), method.size()}, {target.data(), target.size()}, version, ec);
    }
    void on_response_impl(int code, sv, int version, ec_t& ec) override { p_.onStatusLine(code, version, ec); }
    void on_field_impl(field f, sv name, sv value, ec_t& ec) override {
      p_.onField(f, {name.data(), name.size()}, {value.data(), value.size()}, ec);
    }
    void on_header_impl(ec_t& ec) override { p_.onHeaderDone(ec); }
    void on_body_init_impl(const boost::optional<uint64_t>&, ec_t&) override {}
    size_t on_body_impl(sv body, ec_t&) override { return body.size(); }  // unused: bodies bypass Beast
    void on_chunk_header_impl(uint64_t size, sv, ec_t& ec) override { p_.onChunkHeader(size, ec); }
    size_t on_chunk_body_impl(uint64_t remain, sv body, ec_t&) override {
      p_.body_.add({body.data(), body.size()});
      if (remain == body.size()) p_.chunk_line_next_ = true;  // this chunk's data is all here
      return body.size();
    }
    void on_finish_impl(ec_t&) override {}

    Http1Parser& p_;
  };

  enum class Phase { kHead, kLength, kChunked, kEof, kTrailersPending, kComplete, kError };

  ParseEvent parseHead(net::Buffer& in);
  // Emplaced per message that needs it: no heap allocation.
  void startBeast();
  // A plain response head (see PlainHeads), with the same callbacks Beast
  // would make; false leaves it to Beast (or rejected_ says why it failed).
  bool readPlainResponseHead(std::string_view block);
  // The request line's HTTP-version before Beast (which takes only 1.0 and
  // 1.1) sees it; may point `data` at a patched copy. 0, or the status.
  int checkVersion(const char*& data, size_t len, const net::Buffer& in);
  ParseEvent parseChunked(net::Buffer& in);
  size_t put(const char* data, size_t len, boost::beast::error_code& ec);
  ParseEvent fail(int status, std::string_view detail);
  ParseEvent failBeast(const boost::beast::error_code& ec);

  void onRequestLine(std::string_view method, std::string_view target, int version, boost::beast::error_code& ec);
  void onStatusLine(int code, int version, boost::beast::error_code& ec);
  void onField(boost::beast::http::field f, std::string_view name, std::string_view value,
               boost::beast::error_code& ec);
  void onTrailer(boost::beast::http::field f, std::string_view name, std::string_view value,
                 boost::beast::error_code& ec);
  void onHeaderDone(boost::beast::error_code& ec);
  void onChunkHeader(uint64_t size, boost::beast::error_code& ec);
  // Records our own error and makes Beast stop.
  void reject(int status, std::string_view detail, boost::beast::error_code& ec);

  const Http1ParserLimits limits_;
  const PlainHeads plain_heads_;
  std::optional<Beast> beast_;
  bool no_body_ = false;  // the response to a HEAD request
  HeaderScanner scanner_;
  Phase phase_ = Phase::kHead;
  bool scanning_ = false;
  HeaderMap headers_;
  HeaderMap trailers_;
  net::Buffer body_;
  CodecError error_;
  std::optional<CodecError> rejected_;  // set by a field callback, reported after put()
  std::string staging_;                 // contiguous copy of bytes that straddle slices
  std::string path_scratch_;            // "/" + query for an absolute-form target without a path
  const char* span_begin_ = nullptr;    // the bytes Beast is parsing (obs-fold detection)
  const char* span_end_ = nullptr;
  size_t pending_ = 0;  // bytes Beast last saw without progress; it needs more than that
  // The next bytes Beast parses are a chunk line (after the CRLF that ends
  // the previous chunk's data): see parseChunked.
  bool chunk_line_next_ = false;
  uint64_t remaining_ = 0;
  uint64_t chunked_total_ = 0;

  // Per message, from the header block; reset in one assignment.
  struct Facts {
    // Both point into the header block while it is parsed.
    std::string_view host;              // the Host field's value
    std::string_view target_authority;  // an absolute-form target's
    int minor = 1;
    int status = 0;
    uint32_t host_count = 0;
    uint32_t trailer_count = 0;
    uint32_t te_codings = 0;
    uint32_t te_chunked = 0;
    bool te_last_chunked = false;
    bool has_cl = false;
    bool has_te = false;
    bool conn_close = false;
    bool conn_keep_alive = false;
    bool conn_upgrade = false;
    bool has_upgrade_field = false;
    bool has_te_trailers = false;
    bool expect_continue = false;
    bool header_done = false;
    bool keep_alive = true;
    bool upgrade = false;
    bool is_head = false;
  };
  Facts m_;
  std::string connection_names_;  // Connection tokens naming fields to remove
};

extern template class Http1Parser<true>;
extern template class Http1Parser<false>;

// Encoding helpers.

// "HTTP/1.1 200 OK\r\n"
void writeStatusLine(net::Buffer& out, int status);
void writeField(net::Buffer& out, std::string_view name, std::string_view value);
// The chunk-size line for `size` payload bytes.
void writeChunkHeader(net::Buffer& out, size_t size);
// Moves `data` into `out` as one chunk (none if empty), then the last chunk
// when `end_stream`.
void writeChunk(net::Buffer& out, net::Buffer& data, bool end_stream);
// The last chunk carrying `trailers` (pseudo and hop-by-hop fields dropped).
void writeLastChunkWithTrailers(net::Buffer& out, const HeaderMap& trailers);
// Whether a comma-separated header value holds `token` (case-insensitive).
bool hasToken(std::string_view value, std::string_view token);
// A body-less status: 1xx, 204, 304.
inline bool statusHasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace sluice::http
