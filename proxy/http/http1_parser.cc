#include "proxy/http/http1_parser.h"

#include <algorithm>
#include <array>
#include <bit>
#include <boost/beast/http/error.hpp>
#include <charconv>
#include <cstring>
#include <limits>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "proxy/http/authority.h"
#include "proxy/http/content_length.h"
#include "proxy/http/hop_by_hop.h"
#include "proxy/http/request_target.h"
#include "proxy/http/status.h"

namespace sluice::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// f(token) for each non-empty element of a comma-separated list.
template <class F>
void forEachToken(std::string_view list, F&& f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view tok = trimOws(list.substr(0, comma));
    if (!tok.empty()) f(tok);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// Whether the chunk line at the start of `s` (after the CRLF ending the
// previous chunk's data, if there) closes every quoted string of its
// extensions before its CRLF (RFC 9112 7.1.1: a quoted-string holds no CR
// or LF). True while the line's CRLF has not arrived.
bool chunkLineQuotesClosed(std::string_view s) {
  if (s.starts_with("\r\n")) s.remove_prefix(2);
  const size_t eol = s.find("\r\n");
  if (eol == std::string_view::npos) return true;
  bool quoted = false;
  for (size_t i = 0; i < eol; ++i) {
    if (!quoted) {
      quoted = s[i] == '"';
    } else if (s[i] == '\\') {
      if (++i >= eol) return false;  // a quoted-pair cannot escape the line's end
    } else if (s[i] == '"') {
      quoted = false;
    }
  }
  return !quoted;
}

void copyPrefix(const net::Buffer& in, size_t len, std::string& out) {
  out.clear();
  in.copyOut(len, out);
}

// tchar (RFC 9110 5.6.2), as Beast reads a field name.
constexpr auto kTokenChar = [] {
  std::array<bool, 256> t{};
  for (unsigned char c = '0'; c <= '9'; ++c) t[c] = true;
  for (unsigned char c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (const unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) t[c] = true;
  return t;
}();

// `s` equals `lower` (lower-case letters and '-') in any case, 8 bytes a
// step. Exact only where `s` holds no CR: that is the one other byte that
// ORs with 0x20 into '-'. Field names and values never do.
bool equalsFolded(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t a;
    uint64_t b;
    std::memcpy(&a, s.data() + i, 8);
    std::memcpy(&b, lower.data() + i, 8);
    if ((a | 0x2020202020202020) != b) return false;
  }
  for (; i < s.size(); ++i) {
    if ((s[i] | 0x20) != lower[i]) return false;
  }
  return true;
}

// A comma-separated list whose elements are single tokens or empty (OWS
// around them), as Beast's opt_token_list takes it.
bool isPlainTokenList(std::string_view list) {
  if (equalsFolded(list, "keep-alive") || equalsFolded(list, "close")) return true;  // most are
  bool in_token = false;
  bool after_token = false;  // OWS since the token ended
  for (const char c : list) {
    if (c == ',') {
      in_token = after_token = false;
    } else if (c == ' ' || c == '\t') {
      after_token = in_token;
    } else if (!kTokenChar[static_cast<unsigned char>(c)] || after_token) {
      return false;  // not a token byte, or "a b": two tokens in one element
    } else {
      in_token = true;
    }
  }
  return true;
}

// The response fields Beast or onField treat specially, by name.
enum class PlainField { kOther, kNotPlain, kContentLength, kConnection, kProxyConnection, kKeepAlive, kTe };

PlainField plainFieldKind(std::string_view name) {
  switch (name.size()) {
    case 2:
      return equalsFolded(name, "te") ? PlainField::kTe : PlainField::kOther;
    case 7:  // Upgrade: a 101's business, or removed; Beast's path handles both
      return equalsFolded(name, "upgrade") ? PlainField::kNotPlain : PlainField::kOther;
    case 10:
      if (equalsFolded(name, "connection")) return PlainField::kConnection;
      return equalsFolded(name, "keep-alive") ? PlainField::kKeepAlive : PlainField::kOther;
    case 14:
      return equalsFolded(name, "content-length") ? PlainField::kContentLength : PlainField::kOther;
    case 16:
      return equalsFolded(name, "proxy-connection") ? PlainField::kProxyConnection : PlainField::kOther;
    case 17:  // chunked bodies are parsed by Beast, from the head on
      return equalsFolded(name, "transfer-encoding") ? PlainField::kNotPlain : PlainField::kOther;
    default:
      return PlainField::kOther;
  }
}

}  // namespace

// ---- HeaderScanner

namespace {

// Bytes the header scanner must look at one by one: controls (CR, LF and
// NUL above all; HTAB is rare and looked at too) and DEL.
constexpr auto kHeaderSpecial = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t[0x7f] = true;
  return t;
}();

// The first byte in [p, end) the scanner must look at: 16 bytes a step
// where SSE2 is there (every x86-64), so a header line's text costs a few
// instructions per 16 bytes instead of a few per byte.
const char* skipPlain(const char* p, const char* const end) {
#ifdef __SSE2__
  const __m128i last_control = _mm_set1_epi8(0x1f);
  const __m128i del = _mm_set1_epi8(0x7f);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Unsigned v <= 0x1f, or DEL.
    const __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v), _mm_cmpeq_epi8(v, del));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + std::countr_zero(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p != end && !kHeaderSpecial[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

}  // namespace

bool HeaderScanner::scanWhole(const char* data, size_t len, const Http1ParserLimits& limits, bool request) {
  // Past the size limit is the state machine's to refuse.
  const char* const end = data + std::min<size_t>(len, limits.max_header_bytes);
  const char* line = data;
  const char* p = data;
  uint32_t lines = 0;
  bool controls = false;
  for (;;) {
    p = skipPlain(p, end);
    if (p == end) return false;  // cut short: more bytes will come
    if (*p == '\r') {
      if (p + 1 == end || p[1] != '\n') return false;
      if (p == line) {
        if (lines == 0) return false;
        total_ = static_cast<size_t>(p + 2 - data);
        lines_ = lines;
        controls_ = controls;
        return true;
      }
      if (++lines - 1 > limits.max_fields) return false;
      if (request && lines == 1) {
        // The request-target runs from the first SP to the next (414 above the limit).
        const std::string_view start_line(line, static_cast<size_t>(p - line));
        const size_t sp = start_line.find(' ');
        const size_t target = sp == std::string_view::npos ? 0 : start_line.find(' ', sp + 1);
        const size_t target_len =
            sp == std::string_view::npos ? 0 : (target == std::string_view::npos ? start_line.size() : target) - sp - 1;
        if (target_len > limits.max_uri_bytes) return false;
      }
      p += 2;
      line = p;
      if (p != end && (*p == ' ' || *p == '\t')) return false;  // obsolete line folding
    } else if (*p == '\t') {
      ++p;
    } else if (*p == '\n' || *p == '\0') {
      return false;
    } else {
      controls = true;
      ++p;
    }
  }
}

HeaderScanner::Result HeaderScanner::scan(const net::Buffer& in, const Http1ParserLimits& limits, bool request,
                                          CodecError& error) {
  auto fail = [&](int status, std::string_view detail) {
    error.status = request ? status : 502;
    error.detail.assign(detail);
    return Result::kError;
  };
  // Enough for any header block within limits unless the buffer is made of tiny slices.
  constexpr size_t kMaxIov = 256;
  iovec iov[kMaxIov];
  const size_t count = in.peek(iov, kMaxIov);
  if (total_ == 0 && count > 0 &&
      scanWhole(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len, limits, request)) {
    return Result::kComplete;
  }
  size_t skip = total_;
  size_t seen = 0;
  for (size_t i = 0; i < count; ++i) {
    seen += iov[i].iov_len;
    if (skip >= iov[i].iov_len) {
      skip -= iov[i].iov_len;
      continue;
    }
    const char* p = static_cast<const char*>(iov[i].iov_base) + skip;
    const char* const end = static_cast<const char*>(iov[i].iov_base) + iov[i].iov_len;
    skip = 0;
    for (; p != end; ++p) {
      // Most bytes are plain field text in the middle of a line: skip those
      // in a tight loop and run the state machine only on controls,
      // at line starts and in a request's start line (counted for 414).
      if (!cr_ && line_len_ > 0 && !(request && lines_ == 0)) {
        const char* q = skipPlain(p, end);
        const auto n = static_cast<size_t>(q - p);
        total_ += n;
        line_len_ += static_cast<uint32_t>(n);
        if (total_ > limits.max_header_bytes) return fail(431, "header block too large");
        p = q;
        if (p == end) break;
      }
      const char c = *p;
      ++total_;
      if (request && lines_ == 0 && c != '\r' && c != '\n') {
        // Counted before the block is complete so a huge target is refused early.
        if (c == ' ') {
          ++spaces_;
        } else if (spaces_ == 1 && ++uri_len_ > limits.max_uri_bytes) {
          return fail(414, "request-target too long");
        }
      }
      if (total_ > limits.max_header_bytes) return fail(431, "header block too large");
      if (cr_) {
        if (c != '\n') return fail(400, "bare CR in header block");
        cr_ = false;
        if (line_len_ == 0) {
          if (lines_ == 0) return fail(400, "empty start line");
          return Result::kComplete;
        }
        ++lines_;
        line_len_ = 0;
        if (lines_ - 1 > limits.max_fields) return fail(431, "too many header fields");
        continue;
      }
      if (c == '\r') {
        cr_ = true;
      } else if (c == '\n') {
        return fail(400, "bare LF in header block");
      } else if (c == '\0') {
        return fail(400, "NUL in header block");
      } else {
        // Beast would unfold it; RFC 9112 5.2 lets us reject it instead, which
        // leaves no room for a downstream parser to read it differently.
        if (line_len_ == 0 && lines_ > 0 && (c == ' ' || c == '\t')) return fail(400, "obsolete line folding");
        if (kHeaderSpecial[static_cast<unsigned char>(c)] && c != '\t') controls_ = true;
        ++line_len_;
      }
    }
  }
  if (seen < in.length()) return fail(431, "header block too fragmented");
  return Result::kNeedMore;
}

// ---- Http1Parser

template <bool isRequest>
bool Http1Parser<isRequest>::skipEmptyLines(net::Buffer& in) {
  for (;;) {
    if (in.empty()) return false;
    iovec iov[2];
    const size_t count = in.peek(iov, 2);
    const char* first = static_cast<const char*>(iov[0].iov_base);
    if (first[0] != '\r') return true;
    if (in.length() < 2) return false;  // maybe the first half of an empty line
    const char second = iov[0].iov_len >= 2 ? first[1] : (count > 1 ? *static_cast<const char*>(iov[1].iov_base) : 0);
    if (second != '\n') return true;  // the scanner rejects the bare CR
    in.drain(2);
  }
}

template <bool isRequest>
void Http1Parser<isRequest>::reset(bool no_body) {
  beast_.reset();  // started only for a head the plain reader leaves to it
  no_body_ = no_body;
  scanner_.reset();
  phase_ = Phase::kHead;
  scanning_ = false;
  headers_.clear();
  trailers_.clear();
  body_.clear();
  error_.status = 0;
  error_.detail.clear();
  rejected_.reset();
  pending_ = 0;
  chunk_line_next_ = false;
  remaining_ = 0;
  chunked_total_ = 0;
  m_ = Facts{};
  connection_names_.clear();
}

template <bool isRequest>
void Http1Parser<isRequest>::startBeast() {
  beast_.emplace(*this);
  beast_->eager(true);
  beast_->header_limit(std::max<uint32_t>(limits_.max_header_bytes, 1));
  // max_body_bytes is enforced here, with 413. Not boost::none: Beast 1.74
  // compares a Content-Length against the optional and "none" is below any value.
  beast_->body_limit(std::numeric_limits<uint64_t>::max());
  if (no_body_) beast_->skip(true);
}

template <bool isRequest>
ParseEvent Http1Parser<isRequest>::next(net::Buffer& in) {
  switch (phase_) {
    case Phase::kHead:
      return parseHead(in);
    case Phase::kLength: {
      if (in.empty()) return ParseEvent::kNeedMore;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.length()));
      body_.move(in, n);  // whole slices change hands; only a partial one is copied
      remaining_ -= n;
      if (remaining_ == 0) phase_ = Phase::kComplete;
      return ParseEvent::kData;
    }
    case Phase::kEof:
      if (in.empty()) return ParseEvent::kNeedMore;
      body_.move(in);
      return ParseEvent::kData;
    case Phase::kChunked:
      return parseChunked(in);
    case Phase::kTrailersPending:
      phase_ = Phase::kComplete;
      return ParseEvent::kTrailers;
    case Phase::kComplete:
    case Phase::kError:
      break;
  }
  return ParseEvent::kNeedMore;
}

template <bool isRequest>
ParseEvent Http1Parser<isRequest>::eof() {
  switch (phase_) {
    case Phase::kEof:
      phase_ = Phase::kComplete;
      return ParseEvent::kData;
    case Phase::kComplete:
    case Phase::kError:
      return ParseEvent::kNeedMore;
    default:
      return fail(400, "connection closed before the message was complete");
  }
}

template <bool isRequest>
ParseEvent Http1Parser<isRequest>::parseHead(net::Buffer& in) {
  scanning_ = true;
  switch (scanner_.scan(in, limits_, isRequest, error_)) {
    case HeaderScanner::Result::kNeedMore:
      return ParseEvent::kNeedMore;
    case HeaderScanner::Result::kError:
      phase_ = Phase::kError;
      return ParseEvent::kError;
    case HeaderScanner::Result::kComplete:
      break;
  }
  const size_t len = scanner_.length();
  iovec first;
  in.peek(&first, 1);
  const char* data = static_cast<const char*>(first.iov_base);
  if (first.iov_len < len) {
    // Beast needs the block contiguous; it straddles slices only when a
    // request arrives across a slice boundary.
    copyPrefix(in, len, staging_);
    data = staging_.data();
  }
  if constexpr (isRequest) {
    if (const int status = checkVersion(data, len, in); status != 0) return fail(status, "HTTP version not supported");
  } else if (plain_heads_ == PlainHeads::kRead && scanner_.plainText()) {
    if (readPlainResponseHead({data, len})) {
      in.drain(len);
      return ParseEvent::kHeaders;
    }
    if (rejected_) return fail(rejected_->status, rejected_->detail);
    // Beast reads it from the start.
    headers_.clear();
    connection_names_.clear();
    m_ = Facts{};
  }
  startBeast();
  error_code ec;
  const size_t n = put(data, len, ec);
  if (rejected_) return fail(rejected_->status, rejected_->detail);
  if (ec) return failBeast(ec);
  if (n != len || !beast_->is_header_done()) return fail(400, "malformed header block");
  in.drain(len);

  if (beast_->is_done()) {
    phase_ = Phase::kComplete;
  } else if (beast_->chunked()) {
    phase_ = Phase::kChunked;
    chunk_line_next_ = true;
  } else if (const auto cl = beast_->content_length()) {
    remaining_ = *cl;  // > 0, or Beast would be done
    phase_ = Phase::kLength;
  } else {
    phase_ = Phase::kEof;  // a response without framing: its body ends at EOF
  }
  return ParseEvent::kHeaders;
}

template <bool isRequest>
int Http1Parser<isRequest>::checkVersion(const char*& data, size_t len, const net::Buffer& in) {
  // The scanner has seen the whole block: the start line ends at the first CR.
  const std::string_view block(data, len);
  const std::string_view line = block.substr(0, block.find('\r'));
  // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, after the line's last SP
  // (RFC 9112 2.3). Anything else is Beast's to refuse (400), lower case included.
  constexpr size_t kLen = 8;
  if (line.size() <= kLen || line[line.size() - kLen - 1] != ' ') return 0;
  const std::string_view v = line.substr(line.size() - kLen);
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (v.substr(0, 5) != "HTTP/" || !digit(v[5]) || v[6] != '.' || !digit(v[7])) return 0;
  // RFC 9110 15.6.6: a major version we do not speak on this codec, 0.x and
  // HTTP/2 ("PRI * HTTP/2.0" without the rest of the h2c preface) alike.
  if (v[5] != '1') return 505;
  if (v[7] <= '1') return 0;
  // RFC 9110 2.5: a higher minor is handled as the highest we implement.
  // Beast refuses it, so it parses a copy that says 1.1 (rare: one copy).
  if (data != staging_.data()) {
    copyPrefix(in, len, staging_);
    data = staging_.data();
  }
  staging_[line.size() - 1] = '1';
  return 0;
}

template <bool isRequest>
ParseEvent Http1Parser<isRequest>::parseChunked(net::Buffer& in) {
  const size_t body_before = body_.length();
  while (!beast_->is_done()) {
    // After need_more Beast wants at least the bytes it saw plus one; its
    // last-chunk path also assumes 5 bytes, so never offer fewer.
    const size_t need = pending_ == 0 ? 1 : std::max<size_t>(pending_ + 1, 5);
    const size_t avail = in.length();
    if (avail < need) break;
    iovec first;
    in.peek(&first, 1);
    const char* data = static_cast<const char*>(first.iov_base);
    size_t len = first.iov_len;
    if (len < need) {
      // A chunk line or the trailers straddle slices: stage a contiguous
      // copy, doubling so a long element costs linear time.
      len = std::min(avail, std::max({need, 2 * pending_, size_t{256}}));
      copyPrefix(in, len, staging_);
      data = staging_.data();
    }
    error_code ec;
    const size_t n = put(data, len, ec);
    // Beast reads a quoted chunk extension on across CRLFs, waiting for the
    // closing quote: a line an RFC reader ends (and refuses) at its CRLF
    // would swallow the bytes behind it. Refused here instead (found by the
    // http1_client_codec fuzz target).
    if (ec == bhttp::error::need_more && chunk_line_next_ &&
        !chunkLineQuotesClosed(std::string_view(data + n, len - n)))
      return fail(400, "malformed chunk extension");
    in.drain(n);  // chunk data was copied out by on_chunk_body_impl
    if (rejected_) return fail(rejected_->status, rejected_->detail);
    if (ec == bhttp::error::need_more) {
      pending_ = len - n;
      if (pending_ >= limits_.max_header_bytes) return fail(400, "chunk line or trailers too long");
      continue;
    }
    if (ec) return failBeast(ec);
    pending_ = 0;
  }
  if (beast_->is_done()) {
    if (!trailers_.empty()) {
      if (body_.length() > 0) {
        phase_ = Phase::kTrailersPending;
        return ParseEvent::kData;
      }
      phase_ = Phase::kComplete;
      return ParseEvent::kTrailers;
    }
    phase_ = Phase::kComplete;
    return ParseEvent::kData;
  }
  return body_.length() > body_before ? ParseEvent::kData : ParseEvent::kNeedMore;
}

template <bool isRequest>
size_t Http1Parser<isRequest>::put(const char* data, size_t len, error_code& ec) {
  span_begin_ = data;
  span_end_ = data + len;
  return beast_->put(boost::asio::const_buffer(data, len), ec);
}

template <bool isRequest>
ParseEvent Http1Parser<isRequest>::fail(int status, std::string_view detail) {
  phase_ = Phase::kError;
  error_.status = isRequest ? status : 502;
  error_.detail.assign(detail);
  return ParseEvent::kError;
}

template <bool isRequest>
ParseEvent Http1Parser<isRequest>::failBeast(const error_code& ec) {
  int status = 400;
  if (ec == bhttp::error::body_limit) status = 413;
  if (ec == bhttp::error::header_limit) status = 431;
  return fail(status, ec.message());
}

template <bool isRequest>
void Http1Parser<isRequest>::reject(int status, std::string_view detail, error_code& ec) {
  if (!rejected_) rejected_ = CodecError{status, std::string(detail)};
  ec = bhttp::error::bad_value;
}

template <bool isRequest>
void Http1Parser<isRequest>::onRequestLine(std::string_view method, std::string_view target, int version,
                                           error_code& ec) {
  m_.minor = version % 10;
  m_.is_head = method == "HEAD";
  const RequestTarget t = parseRequestTarget(method, target);
  if (!t.error.empty()) return reject(400, t.error, ec);
  // Tunnels are not built (as on HTTP/2); closing also keeps whatever the
  // client sends after its CONNECT from being read as a request.
  if (t.form == TargetForm::Authority) return reject(501, "CONNECT is not supported", ec);
  std::string_view path = t.path;
  if (t.form == TargetForm::Absolute) {
    // RFC 9112 3.2.2: the authority stands in for Host. What is forwarded is
    // origin-form (3.2.1: "/" for an empty path), or "*" for an OPTIONS on
    // the server as a whole (3.2.4).
    m_.target_authority = t.authority;
    if (path.empty()) {
      path = method == "OPTIONS" ? "*" : "/";
    } else if (path.front() == '?') {
      path_scratch_.assign("/").append(path);
      path = path_scratch_;
    }
  }
  headers_.add(headers::kMethod, method);
  headers_.add(headers::kPath, path);
  headers_.add(headers::kScheme, "http");
  headers_.add(headers::kHttp1Minor, m_.minor == 1 ? "1" : "0");
}

template <bool isRequest>
void Http1Parser<isRequest>::onStatusLine(int code, int version, error_code& ec) {
  if (code < 100) return reject(502, "bad status code", ec);
  m_.minor = version % 10;
  m_.status = code;
  headers_.setStatus(code);
  headers_.add(headers::kHttp1Minor, m_.minor == 1 ? "1" : "0");
}

template <bool isRequest>
void Http1Parser<isRequest>::onField(bhttp::field f, std::string_view name, std::string_view value, error_code& ec) {
  if (m_.header_done) return onTrailer(f, name, value, ec);
  using bhttp::field;
  switch (f) {
    case field::host:
      if (!isRequest) break;
      ++m_.host_count;
      m_.host = value;
      return;
    case field::content_length:
      // Beast has checked the value, including that duplicates agree; keep one
      // normalized copy so nothing downstream sees "5, 5" or two fields.
      if (!m_.has_cl) headers_.add(name, trimOws(value.substr(0, value.find(','))));
      m_.has_cl = true;
      return;
    case field::transfer_encoding:
      m_.has_te = true;
      forEachToken(value, [&](std::string_view coding) {
        ++m_.te_codings;
        m_.te_last_chunked = equalsIgnoreCase(coding, "chunked");
        if (m_.te_last_chunked) ++m_.te_chunked;
      });
      return;
    case field::connection:
    case field::proxy_connection:
      forEachToken(value, [&](std::string_view tok) {
        if (equalsIgnoreCase(tok, "close")) {
          m_.conn_close = true;
        } else if (equalsIgnoreCase(tok, "keep-alive")) {
          m_.conn_keep_alive = true;
        } else if (equalsIgnoreCase(tok, "upgrade")) {
          m_.conn_upgrade = true;
        } else {
          connection_names_.append(tok).push_back(',');
        }
      });
      return;
    case field::keep_alive:
      return;
    case field::te:
      // Only "trailers" may travel on (gRPC needs it); codings are hop-by-hop.
      if (isRequest && !m_.has_te_trailers && hasToken(value, "trailers")) {
        m_.has_te_trailers = true;
        headers_.add(name, "trailers");
      }
      return;
    case field::upgrade:
      m_.has_upgrade_field = true;
      break;  // kept for now; removed in onHeaderDone unless this is an upgrade
    case field::expect:
      if (isRequest && equalsIgnoreCase(trimOws(value), "100-continue")) {
        m_.expect_continue = true;
        return;
      }
      break;
    default:
      break;
  }
  headers_.add(name, value);
}

template <bool isRequest>
void Http1Parser<isRequest>::onTrailer(bhttp::field f, std::string_view name, std::string_view value, error_code& ec) {
  // Beast unfolds obs-fold into its own buffer: a value outside the bytes we
  // gave it was folded. Trailers are not pre-scanned, so this is the check.
  if (!value.empty() && (value.data() < span_begin_ || value.data() + value.size() > span_end_)) {
    return reject(400, "obsolete line folding in trailers", ec);
  }
  if (++m_.trailer_count > limits_.max_fields) return reject(431, "too many trailer fields", ec);
  if (isHopByHop(name) || f == bhttp::field::host || f == bhttp::field::content_length) return;
  trailers_.add(name, value);
}

template <bool isRequest>
void Http1Parser<isRequest>::onHeaderDone(error_code& ec) {
  m_.header_done = true;  // fields from now on are trailers
  if constexpr (isRequest) {
    // RFC 9112 3.2: one valid Host, required from HTTP/1.1 on; checked even
    // when an absolute-form authority replaces it.
    if (m_.host_count > 1) return reject(400, "multiple host fields", ec);
    if (m_.minor == 1 && m_.host_count == 0) return reject(400, "missing host", ec);
    if (!m_.host.empty()) {
      if (const AuthorityError e = checkAuthority(m_.host); e != AuthorityError::None)
        return reject(400, authorityErrorText(e), ec);
    } else if (m_.host_count == 1 && m_.minor == 1) {
      // An empty Host says the target URI has no authority, which an http
      // URI must have (RFC 9110 4.2.1); RFC 9112 3.3 lets a server refuse it.
      return reject(400, "empty host", ec);
    }
    const std::string_view authority = m_.target_authority.empty() ? m_.host : m_.target_authority;
    // An HTTP/1.0 request may have none: the upstream codec supplies one.
    if (!authority.empty()) headers_.add(headers::kAuthority, authority);
  }
  if (m_.has_cl && m_.has_te) return reject(400, "both content-length and transfer-encoding", ec);
  if (m_.has_te) {
    // RFC 9112 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty.
    if (m_.minor == 0) return reject(400, "transfer-encoding in HTTP/1.0", ec);
    if (!m_.te_last_chunked) return reject(400, "transfer-encoding final coding is not chunked", ec);
    if (m_.te_chunked > 1) return reject(400, "chunked applied more than once", ec);
    // "gzip, chunked": we would forward the body without saying it is gzip.
    if (m_.te_codings > 1) return reject(501, "unsupported transfer coding", ec);
  }
  // Responses never need it, and a plain response head has no Beast.
  const uint64_t cl = isRequest && m_.has_cl ? beast_->content_length().value_or(0) : 0;
  if (isRequest && limits_.max_body_bytes > 0 && cl > limits_.max_body_bytes) {
    return reject(413, "request body too large", ec);
  }
  if constexpr (isRequest) {
    m_.upgrade = m_.conn_upgrade && m_.has_upgrade_field && !m_.has_te && cl == 0;
  } else {
    m_.upgrade = m_.status == 101;
  }
  if (m_.upgrade) {
    headers_.add("connection", "upgrade");
  } else if (m_.has_upgrade_field) {
    headers_.remove("upgrade");
  }
  // RFC 9110 7.6.1: fields named by Connection are hop-by-hop too. The body
  // length is already fixed, so content-length stays.
  forEachToken(connection_names_, [&](std::string_view name) {
    if (!equalsIgnoreCase(name, "content-length")) headers_.remove(name);
  });
  m_.keep_alive = m_.minor == 1 ? !m_.conn_close : (m_.conn_keep_alive && !m_.conn_close);
  // RFC 9110 10.1.1: Expect in an HTTP/1.0 request is ignored.
  if (m_.minor == 0) m_.expect_continue = false;
}

template <bool isRequest>
void Http1Parser<isRequest>::onChunkHeader(uint64_t size, error_code& ec) {
  chunk_line_next_ = false;
  if (size > std::numeric_limits<uint64_t>::max() - chunked_total_) return reject(400, "chunk size overflow", ec);
  chunked_total_ += size;
  if (isRequest && limits_.max_body_bytes > 0 && chunked_total_ > limits_.max_body_bytes) {
    reject(413, "request body too large", ec);
  }
}

template <bool isRequest>
bool Http1Parser<isRequest>::readPlainResponseHead(std::string_view block) {
  // The scanner has seen the whole block: every line ends in CRLF, the last
  // one is empty, and no byte is a control other than HTAB. What is left to
  // check is what Beast would refuse, or treat specially.
  // status-line = "HTTP/1." DIGIT SP 3DIGIT SP reason-phrase
  if (block.size() < 13 || block.substr(0, 7) != "HTTP/1." || (block[7] != '0' && block[7] != '1') || block[8] != ' ' ||
      block[12] != ' ') {
    return false;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (block[i] < '0' || block[i] > '9') return false;
    status = status * 10 + (block[i] - '0');
  }
  if (status < 200) return false;  // 1xx (101 above all) and codes Beast or onStatusLine refuse
  error_code ec;
  onStatusLine(status, 10 + (block[7] - '0'), ec);
  size_t at = block.find('\r', 13) + 2;
  bool has_cl = false;
  uint64_t cl = 0;
  while (block[at] != '\r') {
    // field-name ":" OWS field-value OWS CRLF
    const size_t name_start = at;
    while (kTokenChar[static_cast<unsigned char>(block[at])]) ++at;
    if (block[at] != ':' || at == name_start) return false;
    const std::string_view name = block.substr(name_start, at - name_start);
    ++at;
    while (block[at] == ' ' || block[at] == '\t') ++at;
    const size_t eol = block.find('\r', at);
    size_t value_end = eol;
    while (value_end > at && (block[value_end - 1] == ' ' || block[value_end - 1] == '\t')) --value_end;
    const std::string_view value = block.substr(at, value_end - at);
    at = eol + 2;
    bhttp::field f = bhttp::field::unknown;
    switch (plainFieldKind(name)) {
      case PlainField::kOther:
        break;
      case PlainField::kNotPlain:
        return false;
      case PlainField::kContentLength:
        // One field of at most 19 digits; lists, duplicates and anything
        // larger are Beast's to check.
        if (has_cl || value.size() > 19) return false;
        if (const auto length = parseContentLength(value); length) {
          cl = *length;
        } else {
          return false;
        }
        has_cl = true;
        f = bhttp::field::content_length;
        break;
      case PlainField::kConnection:
        if (!isPlainTokenList(value)) return false;
        f = bhttp::field::connection;
        break;
      case PlainField::kProxyConnection:
        if (!isPlainTokenList(value)) return false;
        f = bhttp::field::proxy_connection;
        break;
      case PlainField::kKeepAlive:
        f = bhttp::field::keep_alive;
        break;
      case PlainField::kTe:
        f = bhttp::field::te;
        break;
    }
    onField(f, name, value, ec);
    if (ec) return false;
  }
  onHeaderDone(ec);
  if (ec) return false;
  // Beast's framing for a response (RFC 9112 6.3).
  if (no_body_ || status == 204 || status == 304 || (has_cl && cl == 0)) {
    phase_ = Phase::kComplete;
  } else if (has_cl) {
    remaining_ = cl;
    phase_ = Phase::kLength;
  } else {
    phase_ = Phase::kEof;
  }
  return true;
}

template class Http1Parser<true>;
template class Http1Parser<false>;

// ---- Encoding helpers

void writeStatusLine(net::Buffer& out, int status) {
  char line[64] = "HTTP/1.1 ";
  char* p = line + 9;
  p = std::to_chars(p, line + 16, status).ptr;
  *p++ = ' ';
  out.add(std::string_view(line, static_cast<size_t>(p - line)));
  out.add(reasonPhrase(status));
  out.add("\r\n");
}

void writeField(net::Buffer& out, std::string_view name, std::string_view value) {
  out.addParts({name, ": ", value, "\r\n"});
}

void writeChunkHeader(net::Buffer& out, size_t size) {
  char line[24];
  char* p = std::to_chars(line, line + 20, size, 16).ptr;
  *p++ = '\r';
  *p++ = '\n';
  out.add(std::string_view(line, static_cast<size_t>(p - line)));
}

void writeChunk(net::Buffer& out, net::Buffer& data, bool end_stream) {
  if (!data.empty()) {
    writeChunkHeader(out, data.length());
    out.move(data);
    out.add("\r\n");
  }
  if (end_stream) out.add("0\r\n\r\n");
}

void writeLastChunkWithTrailers(net::Buffer& out, const HeaderMap& trailers) {
  out.add("0\r\n");
  trailers.forEachField([&](std::string_view name, std::string_view value) {
    if (!isHopByHop(name)) writeField(out, name, value);
  });
  out.add("\r\n");
}

bool hasToken(std::string_view value, std::string_view token) {
  bool found = false;
  forEachToken(value, [&](std::string_view tok) { found = found || equalsIgnoreCase(tok, token); });
  return found;
}

}  // namespace sluice::http
