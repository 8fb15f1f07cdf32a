// Http1ServerCodec: request decoding (strictness, limits, bodies, pipelining,
// upgrade) and response encoding (framing, keep-alive), on in-memory buffers.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proxy/http/http1_codec.h"

namespace sluice::http {
namespace {

struct Output : CodecOutput {
  void writeBytes(net::Buffer& data, bool end_stream) override {
    wire.move(data);
    if (end_stream) closed = true;
  }
  std::string take() {
    std::string s = wire.toString();
    wire.clear();
    return s;
  }
  void readDisable(bool disable) override { read_disabled += disable ? 1 : -1; }
  net::Buffer wire;
  bool closed = false;
  int read_disabled = 0;
};

struct Request : MessageDecoder {
  void decodeHeaders(HeaderMap& h, bool end_stream) override {
    ++headers_calls;
    h.forEach([&](std::string_view n, std::string_view v) { fields.emplace_back(n, v); });
    ended = end_stream;
  }
  void decodeData(net::Buffer& data, bool end_stream) override {
    EXPECT_FALSE(ended) << "data after end_stream";
    ++data_calls;
    body += data.toString();
    data.clear();
    ended = end_stream;
  }
  void decodeTrailers(HeaderMap& t) override {
    EXPECT_FALSE(ended) << "trailers after end_stream";
    t.forEach([&](std::string_view n, std::string_view v) { trailers.emplace_back(n, v); });
    ended = true;
  }
  std::string get(std::string_view name) const {
    for (const auto& [n, v] : fields)
      if (equalsIgnoreCase(n, name)) return v;
    return "<none>";
  }
  bool has(std::string_view name) const { return get(name) != "<none>"; }

  MessageEncoder* encoder = nullptr;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::string body;
  int headers_calls = 0;
  int data_calls = 0;
  bool ended = false;
};

class Server : public ServerCodecCallbacks {
 public:
  explicit Server(CodecLimits limits = {}) : codec(makeHttp1ServerCodec(out, *this, limits)) {}

  MessageDecoder& onNewRequest(MessageEncoder& response) override {
    requests.push_back(std::make_unique<Request>());
    requests.back()->encoder = &response;
    if (on_request) on_request(*requests.back());
    return *requests.back();
  }
  std::optional<CodecError> feed(std::string_view bytes) {
    input.add(bytes);
    return codec->dispatch(input);
  }
  // Feeds one byte per dispatch() call.
  std::optional<CodecError> feedBytewise(std::string_view bytes) {
    for (char c : bytes) {
      if (auto err = feed(std::string_view(&c, 1))) return err;
    }
    return std::nullopt;
  }
  Request& last() { return *requests.back(); }

  Output out;
  net::Buffer input;
  std::deque<std::unique_ptr<Request>> requests;
  std::function<void(Request&)> on_request;
  std::unique_ptr<ServerCodec> codec;
};

void respond(Request& r, int status, std::string_view body, bool with_length = true) {
  HeaderMap h;
  h.setStatus(status);
  if (with_length) h.add("content-length", std::to_string(body.size()));
  r.encoder->encodeHeaders(h, body.empty() && with_length);
  if (!body.empty() || !with_length) {
    net::Buffer b;
    b.add(body);
    r.encoder->encodeData(b, true);
  }
}

// A literal with its embedded NULs.
template <size_t N>
std::string lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

constexpr std::string_view kGet = "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";

TEST(Http1ServerCodecTest, SimpleGet) {
  Server s;
  EXPECT_FALSE(s.feed(kGet));
  ASSERT_EQ(s.requests.size(), 1u);
  const Request& r = s.last();
  EXPECT_EQ(r.headers_calls, 1);
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.get(":method"), "GET");
  EXPECT_EQ(r.get(":path"), "/a?b=c");
  EXPECT_EQ(r.get(":authority"), "example.com");
  EXPECT_EQ(r.get(":scheme"), "http");
  EXPECT_EQ(r.get(":http1-minor"), "1");
  EXPECT_EQ(r.get("user-agent"), "t");
  EXPECT_FALSE(r.has("host"));
  EXPECT_TRUE(s.input.empty());
  EXPECT_FALSE(s.codec->hasPendingInput());
}

TEST(Http1ServerCodecTest, HopByHopFieldsAreDropped) {
  Server s;
  EXPECT_FALSE(
      s.feed("POST / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Private\r\nKeep-Alive: timeout=5\r\n"
             "X-Private: secret\r\nProxy-Connection: keep-alive\r\nTE: trailers, deflate\r\nUpgrade: h2c\r\n"
             "Content-Length: 2\r\nX-Kept: 1\r\n\r\nhi"));
  const Request& r = s.last();
  for (const char* name : {"connection", "keep-alive", "x-private", "proxy-connection", "upgrade"})
    EXPECT_FALSE(r.has(name)) << name;
  EXPECT_EQ(r.get("te"), "trailers");
  EXPECT_EQ(r.get("content-length"), "2");
  EXPECT_EQ(r.get("x-kept"), "1");
  EXPECT_EQ(r.body, "hi");
}

TEST(Http1ServerCodecTest, TeWithoutTrailersIsDropped) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.1\r\nHost: h\r\nTE: deflate\r\n\r\n"));
  EXPECT_FALSE(s.last().has("te"));
}

TEST(Http1ServerCodecTest, IdenticalDuplicateContentLengthIsCollapsed) {
  for (std::string_view cl : {"Content-Length: 3\r\nContent-Length: 3\r\n", "Content-Length: 3, 3\r\n"}) {
    Server s;
    EXPECT_FALSE(s.feed("POST / HTTP/1.1\r\nHost: h\r\n" + std::string(cl) + "\r\nabc")) << cl;
    ASSERT_EQ(s.requests.size(), 1u);
    const Request& r = s.last();
    EXPECT_EQ(r.get("content-length"), "3");
    int count = 0;
    for (const auto& f : r.fields) count += equalsIgnoreCase(f.first, "content-length");
    EXPECT_EQ(count, 1);
    EXPECT_EQ(r.body, "abc");
    EXPECT_TRUE(r.ended);
  }
}

TEST(Http1ServerCodecTest, Http10WithoutHostIsAccepted) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(s.last().get(":http1-minor"), "0");
  EXPECT_FALSE(s.last().has(":authority"));
  EXPECT_TRUE(s.codec->closeAfterResponse());
}

// ---- request line and Host (RFC 9112 2.3, 3.2; RFC 9110 2.5)

// RFC 9110 2.5: a higher minor version is handled as the highest one
// implemented, 1.1: Host is required, keep-alive is the default.
TEST(Http1ServerCodecTest, HigherMinorVersionIsHandledAs11) {
  for (const char* version : {"HTTP/1.2", "HTTP/1.9"}) {
    Server s;
    EXPECT_FALSE(s.feed(std::string("GET /v HTTP/1.x\r\nHost: h\r\n\r\n").replace(7, 8, version))) << version;
    ASSERT_EQ(s.requests.size(), 1u) << version;
    EXPECT_EQ(s.last().get(":http1-minor"), "1");
    EXPECT_EQ(s.last().get(":path"), "/v");
    EXPECT_FALSE(s.codec->closeAfterResponse());
    respond(s.last(), 200, "");
    EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  }
}

// RFC 9112 3.2.2: the authority of an absolute-form target replaces Host
// (which must still be there and valid); the request goes on in origin-form.
TEST(Http1ServerCodecTest, AbsoluteFormAuthorityReplacesHost) {
  struct Case {
    const char* line;
    const char* authority;
    const char* path;
  };
  for (const Case& c : {
           Case{"GET http://example.com/a/../b?q HTTP/1.1", "example.com", "/a/../b?q"},
           Case{"GET https://example.com:8443 HTTP/1.1", "example.com:8443", "/"},
           Case{"GET HTTP://Example.com?x=1 HTTP/1.1", "Example.com", "/?x=1"},
           Case{"OPTIONS http://example.com HTTP/1.1", "example.com", "*"},  // RFC 9112 3.2.4
           Case{"GET http://[::1]:81/x HTTP/1.1", "[::1]:81", "/x"},
       }) {
    Server s;
    EXPECT_FALSE(s.feed(std::string(c.line) + "\r\nHost: other.example\r\n\r\n")) << c.line;
    ASSERT_EQ(s.requests.size(), 1u) << c.line;
    EXPECT_EQ(s.last().get(":authority"), c.authority) << c.line;
    EXPECT_EQ(s.last().get(":path"), c.path) << c.line;
    EXPECT_FALSE(s.last().has("host"));
  }
  // HTTP/1.0 needs no Host beside it.
  Server s10;
  EXPECT_FALSE(s10.feed("GET http://example.com/x HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(s10.last().get(":authority"), "example.com");
  EXPECT_EQ(s10.last().get(":path"), "/x");
}

// RFC 9112 3.2.4: OPTIONS * is a request for the server as a whole.
TEST(Http1ServerCodecTest, AsteriskFormWithOptions) {
  Server s;
  EXPECT_FALSE(s.feed("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_EQ(s.last().get(":path"), "*");
  EXPECT_EQ(s.last().get(":authority"), "h");
}

// RFC 9112 3.2: an HTTP/1.0 request's empty Host is no authority at all.
TEST(Http1ServerCodecTest, Http10EmptyHostIsNoAuthority) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.0\r\nHost:\r\n\r\n"));
  EXPECT_FALSE(s.last().has(":authority"));
}

TEST(Http1ServerCodecTest, ValidHostsAreAccepted) {
  for (const char* host : {"example.com", "example.com:8080", "[::1]:80", "192.0.2.1", "EXAMPLE.com", "a_b-c~d"}) {
    Server s;
    EXPECT_FALSE(s.feed("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n")) << host;
    ASSERT_EQ(s.requests.size(), 1u) << host;
    EXPECT_EQ(s.last().get(":authority"), host);
  }
}

// RFC 9112 3.2: after a request line in no valid form the connection
// closes; the bytes behind it are never read as a request.
TEST(Http1ServerCodecTest, NothingAfterABadRequestLineIsParsed) {
  for (const char* line : {"GET http://u@h/ HTTP/1.1", "GET /a#b HTTP/1.1", "GET / HTTP/2.0", "GET * HTTP/1.1"}) {
    Server s;
    const auto err = s.feed(std::string(line) + "\r\nHost: h\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_TRUE(err) << line;
    EXPECT_TRUE(s.codec->closeAfterResponse());
    EXPECT_FALSE(s.codec->hasPendingInput());
    EXPECT_FALSE(s.feed(kGet));
    EXPECT_TRUE(s.requests.empty()) << line;
  }
}

TEST(Http1ServerCodecTest, LeadingEmptyLinesAreSkipped) {
  Server s;
  EXPECT_FALSE(s.feed("\r\n\r\n" + std::string(kGet)));
  EXPECT_EQ(s.requests.size(), 1u);
}

// ---- strictness: each case is answered with an error and raises no callback.

struct BadRequest {
  const char* name;
  std::string bytes;
  int status;
};

class Http1ServerCodecRejectTest : public testing::TestWithParam<BadRequest> {};

TEST_P(Http1ServerCodecRejectTest, RejectedBeforeHeaders) {
  const BadRequest& c = GetParam();
  CodecLimits limits;
  limits.max_request_body_bytes = 1000;
  {
    Server s(limits);
    const auto err = s.feed(c.bytes);
    ASSERT_TRUE(err.has_value()) << c.name;
    EXPECT_EQ(err->status, c.status) << c.name << ": " << err->detail;
    EXPECT_TRUE(s.requests.empty()) << c.name;
    EXPECT_TRUE(s.codec->closeAfterResponse());
    EXPECT_FALSE(s.feed(kGet)) << "nothing more is parsed";
    EXPECT_TRUE(s.requests.empty());
  }
  {
    // The same verdict when the bytes trickle in.
    Server s(limits);
    const auto err = s.feedBytewise(c.bytes);
    ASSERT_TRUE(err.has_value()) << c.name;
    EXPECT_EQ(err->status, c.status) << c.name;
    EXPECT_TRUE(s.requests.empty()) << c.name;
  }
}

std::string post(std::string_view fields) { return "POST / HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n"; }

INSTANTIATE_TEST_SUITE_P(
    Http1Strictness, Http1ServerCodecRejectTest,
    testing::Values(BadRequest{"cl_then_te", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400},
                    BadRequest{"te_then_cl", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400},
                    BadRequest{"te_gzip_then_cl", post("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"), 400},
                    BadRequest{"differing_cl", post("Content-Length: 5\r\nContent-Length: 6\r\n"), 400},
                    BadRequest{"differing_cl_list", post("Content-Length: 5, 6\r\n"), 400},
                    BadRequest{"cl_not_a_number", post("Content-Length: abc\r\n"), 400},
                    BadRequest{"cl_negative", post("Content-Length: -1\r\n"), 400},
                    BadRequest{"cl_plus", post("Content-Length: +5\r\n"), 400},
                    BadRequest{"te_final_not_chunked", post("Transfer-Encoding: gzip\r\n"), 400},
                    BadRequest{"te_chunked_then_gzip", post("Transfer-Encoding: chunked, gzip\r\n"), 400},
                    BadRequest{"te_chunked_twice_in_list", post("Transfer-Encoding: chunked, chunked\r\n"), 400},
                    BadRequest{"te_chunked_twice_in_fields",
                               post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400},
                    BadRequest{"te_identity", post("Transfer-Encoding: identity\r\n"), 400},
                    BadRequest{"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
                    BadRequest{"te_gzip_chunked", post("Transfer-Encoding: gzip, chunked\r\n"), 501},
                    BadRequest{"obs_fold_sp", post("X-A: b\r\n c\r\n"), 400},
                    BadRequest{"obs_fold_ht", post("X-A: b\r\n\tc\r\n"), 400},
                    BadRequest{"fold_first_line", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
                    BadRequest{"bare_cr_in_value", post("X-A: b\rc\r\n"), 400},
                    BadRequest{"bare_cr_line_end", post("X-A: b\r"), 400},
                    BadRequest{"bare_lf_line_end", "GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n", 400},
                    BadRequest{"bare_lf_request_line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400},
                    BadRequest{"bare_lf_in_target", "GET /a\nb HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"bare_lf_end_of_block", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400},
                    BadRequest{"nul_in_value", post(lit("X-A: b\0c\r\n")), 400},
                    BadRequest{"nul_in_target", lit("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"), 400},
                    BadRequest{"method_bad_char", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"method_at", "GE@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"method_empty", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"name_space", post("X A: b\r\n"), 400},
                    BadRequest{"name_space_before_colon", post("X-A : b\r\n"), 400},
                    BadRequest{"name_separator", post("X@A: b\r\n"), 400},
                    BadRequest{"name_empty", post(": b\r\n"), 400},
                    BadRequest{"no_colon", post("X-A\r\n"), 400},
                    BadRequest{"ctl_in_value", post("X-A: b\x01c\r\n"), 400},
                    BadRequest{"space_in_target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    // RFC 9110 2.5, 15.6.6: another major version is a 505 on this codec.
                    BadRequest{"http20", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
                    BadRequest{"http30", "GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505},
                    BadRequest{"http09_with_version", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505},
                    BadRequest{"h2c_preface_head", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
                    // RFC 9112 2.3: HTTP-version is case-sensitive, one digit each side.
                    BadRequest{"lowercase_version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"two_digit_minor", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"two_digit_major", "GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"version_without_minor", "GET / HTTP/1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"http09_request_line", "GET /\r\n\r\n", 400},
                    BadRequest{"trailing_space_after_version", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
                    // RFC 9112 3.2: a request-target in no valid form.
                    BadRequest{"fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"non_ascii_target", "GET /caf\xC3\xA9 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"relative_target", "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"authority_form_with_get", "GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"asterisk_with_get", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"absolute_userinfo", "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"absolute_empty_authority", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"absolute_other_scheme", "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"connect_origin_form", "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"connect_without_port", "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", 400},
                    // RFC 9110 9.3.6: a valid CONNECT, but tunnels are not built.
                    BadRequest{"connect", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 501},
                    // RFC 9112 3.2, RFC 3986 3.2.2/3.2.3: Host = uri-host [":" port].
                    BadRequest{"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
                    BadRequest{"host_userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", 400},
                    BadRequest{"host_list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400},
                    BadRequest{"host_comma", "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400},
                    BadRequest{"host_bad_port", "GET / HTTP/1.1\r\nHost: h:8x\r\n\r\n", 400},
                    BadRequest{"host_port_too_big", "GET / HTTP/1.1\r\nHost: h:65536\r\n\r\n", 400},
                    BadRequest{"host_bad_ipv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
                    BadRequest{"host_path", "GET / HTTP/1.1\r\nHost: h/x\r\n\r\n", 400},
                    BadRequest{"host_empty_11", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400},
                    BadRequest{"host_empty_absolute", "GET http://h/ HTTP/1.1\r\nHost: \r\n\r\n", 400},
                    BadRequest{"host_invalid_with_absolute", "GET http://h/ HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
                    BadRequest{"host_invalid_http10", "GET / HTTP/1.0\r\nHost: u@h\r\n\r\n", 400},
                    BadRequest{"missing_host_absolute", "GET http://h/ HTTP/1.1\r\n\r\n", 400},
                    BadRequest{"missing_host_http12", "GET / HTTP/1.2\r\n\r\n", 400},
                    BadRequest{"garbage_version", "GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400},
                    BadRequest{"missing_host", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400},
                    BadRequest{"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
                    BadRequest{"body_too_large", post("Content-Length: 1001\r\n"), 413}),
    [](const testing::TestParamInfo<BadRequest>& info) { return std::string(info.param.name); });

// ---- limits

TEST(Http1ServerCodecTest, HeaderBlockTooLargeIs431) {
  CodecLimits limits;
  limits.max_request_headers_bytes = 1024;
  Server s(limits);
  const auto err = s.feed("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(2000, 'x'));  // still incomplete
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, 431);
  EXPECT_TRUE(s.requests.empty());
}

TEST(Http1ServerCodecTest, HeaderBlockAtLimitIsAccepted) {
  CodecLimits limits;
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  const std::string request = head + std::string(100, 'p') + "\r\n\r\n";
  limits.max_request_headers_bytes = static_cast<uint32_t>(request.size());
  {
    Server s(limits);
    EXPECT_FALSE(s.feed(request));
    EXPECT_EQ(s.requests.size(), 1u);
  }
  limits.max_request_headers_bytes -= 1;
  Server s(limits);
  const auto err = s.feed(request);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, 431);
}

TEST(Http1ServerCodecTest, TooManyFieldsIs431) {
  CodecLimits limits;
  limits.max_headers_count = 3;
  {
    Server s(limits);
    EXPECT_FALSE(s.feed("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n"));
    EXPECT_EQ(s.requests.size(), 1u);
  }
  Server s(limits);
  const auto err = s.feed("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, 431);
  EXPECT_TRUE(s.requests.empty());
}

TEST(Http1ServerCodecTest, LongUriIs414EvenBeforeTheLineEnds) {
  CodecLimits limits;
  limits.max_uri_bytes = 100;
  {
    Server s(limits);
    const auto err = s.feed("GET /" + std::string(150, 'a'));  // no SP, no CRLF yet
    ASSERT_TRUE(err);
    EXPECT_EQ(err->status, 414);
  }
  {
    Server s(limits);
    const auto err = s.feed("GET /" + std::string(150, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_TRUE(err);
    EXPECT_EQ(err->status, 414);
    EXPECT_TRUE(s.requests.empty());
  }
  {
    // A URI over the URI limit but within the header limit is still 414; a
    // long header elsewhere is 431.
    limits.max_request_headers_bytes = 120;
    Server s(limits);
    const auto err = s.feed("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(150, 'a'));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->status, 431);
  }
  limits.max_request_headers_bytes = 1024;
  Server s(limits);
  EXPECT_FALSE(s.feed("GET /" + std::string(99, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_EQ(s.requests.size(), 1u);
}

TEST(Http1ServerCodecTest, ContentLengthAtBodyLimitIsAccepted) {
  CodecLimits limits;
  limits.max_request_body_bytes = 5;
  Server s(limits);
  EXPECT_FALSE(s.feed(post("Content-Length: 5\r\n") + "12345"));
  EXPECT_EQ(s.last().body, "12345");
}

TEST(Http1ServerCodecTest, ChunkedBodyOverLimitIs413WhenExceeded) {
  CodecLimits limits;
  limits.max_request_body_bytes = 10;
  Server s(limits);
  EXPECT_FALSE(s.feed(post("Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n"));
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.last().body, "hello");
  const auto err = s.feed("6\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, 413);
  EXPECT_EQ(s.last().body, "hello");
  EXPECT_FALSE(s.last().ended);
  EXPECT_TRUE(s.codec->closeAfterResponse());
}

// A quoted chunk extension still open at its line's end: Beast waited for
// the quote across lines, taking the next request's bytes for the extension
// (found by the http1_client_codec fuzz target, the parser being shared).
TEST(Http1ServerCodecTest, ChunkExtensionOpenAtLineEndIs400) {
  for (std::string_view chunk : {"5;a=\"x\r\nhello\r\n0\r\n\r\n",
                                 "0;a=\"x\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n\"\r\n\r\n"}) {
    Server s;
    EXPECT_FALSE(s.feed(post("Transfer-Encoding: chunked\r\n")));
    ASSERT_EQ(s.requests.size(), 1u);
    const auto err = s.feed(chunk);
    ASSERT_TRUE(err) << chunk;
    EXPECT_EQ(err->status, 400) << chunk;
    EXPECT_FALSE(s.last().ended) << chunk;
    EXPECT_EQ(s.requests.size(), 1u) << chunk;
  }
}

TEST(Http1ServerCodecTest, InvalidChunkSizeIs400) {
  for (std::string_view chunk : {"zz\r\nhello\r\n", "5x\r\nhello\r\n", " 5\r\nhello\r\n", "-5\r\nhello\r\n",
                                 "fffffffffffffffff\r\nx\r\n", "5\r\nhelloXX0\r\n\r\n", "5\nhello\r\n"}) {
    Server s;
    EXPECT_FALSE(s.feed(post("Transfer-Encoding: chunked\r\n")));
    ASSERT_EQ(s.requests.size(), 1u);
    const auto err = s.feed(chunk);
    ASSERT_TRUE(err) << chunk;
    EXPECT_EQ(err->status, 400) << chunk;
    EXPECT_FALSE(s.last().ended) << chunk;
  }
}

TEST(Http1ServerCodecTest, ObsFoldInTrailersIs400) {
  Server s;
  const auto err = s.feed(post("Transfer-Encoding: chunked\r\n") + "0\r\nX-T: a\r\n b\r\n\r\n");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, 400);
  EXPECT_FALSE(s.last().ended);
}

// ---- bodies

TEST(Http1ServerCodecTest, ContentLengthBodyStreamsAsItArrives) {
  Server s;
  EXPECT_FALSE(s.feed(post("Content-Length: 10\r\n") + "01234"));
  Request& r = s.last();
  EXPECT_FALSE(r.ended);
  EXPECT_EQ(r.body, "01234");
  EXPECT_FALSE(s.codec->hasPendingInput());
  EXPECT_FALSE(s.feed("56789"));
  EXPECT_EQ(r.body, "0123456789");
  EXPECT_TRUE(r.ended);
  EXPECT_FALSE(s.codec->hasPendingInput());
}

TEST(Http1ServerCodecTest, LargeContentLengthBodyMovesSlices) {
  Server s;
  const std::string body(3 * net::Buffer::kSliceSize + 7, 'b');
  EXPECT_FALSE(s.feed(post("Content-Length: " + std::to_string(body.size()) + "\r\n") + body));
  EXPECT_EQ(s.last().body, body);
  EXPECT_TRUE(s.last().ended);
}

constexpr std::string_view kChunked =
    "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value\r\nhello\r\n"
    "6;a;b=\"q;\\\"x\"\r\n world\r\n"
    "A\r\n0123456789\r\n"
    "0;last\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n";

void expectChunkedRequest(const Request& r) {
  EXPECT_EQ(r.headers_calls, 1);
  EXPECT_FALSE(r.has("transfer-encoding"));
  EXPECT_EQ(r.body, "hello world0123456789");
  ASSERT_EQ(r.trailers.size(), 2u);
  EXPECT_EQ(r.trailers[0], (std::pair<std::string, std::string>{"X-Trailer", "t1"}));
  EXPECT_EQ(r.trailers[1], (std::pair<std::string, std::string>{"X-Other", "t2"}));
  EXPECT_TRUE(r.ended);
}

TEST(Http1ServerCodecTest, ChunkedWithExtensionsAndTrailers) {
  Server s;
  EXPECT_FALSE(s.feed(kChunked));
  ASSERT_EQ(s.requests.size(), 1u);
  expectChunkedRequest(s.last());
  EXPECT_TRUE(s.input.empty());
}

TEST(Http1ServerCodecTest, ChunkedWithoutTrailersEndsWithData) {
  Server s;
  EXPECT_FALSE(s.feed(post("Transfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\n\r\n"));
  EXPECT_EQ(s.last().body, "abc");
  EXPECT_TRUE(s.last().ended);
  EXPECT_TRUE(s.last().trailers.empty());
}

TEST(Http1ServerCodecTest, BodiesSurviveOneByteAtATime) {
  {
    Server s;
    EXPECT_FALSE(s.feedBytewise(kChunked));
    ASSERT_EQ(s.requests.size(), 1u);
    expectChunkedRequest(s.last());
  }
  Server s;
  EXPECT_FALSE(s.feedBytewise(post("Content-Length: 11\r\n") + "hello world"));
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.last().body, "hello world");
  EXPECT_EQ(s.last().data_calls, 11);
  EXPECT_TRUE(s.last().ended);
}

// Every split of a message into two slices (Buffer::move keeps slices
// apart), so headers, chunk lines and trailers straddle a slice boundary.
TEST(Http1ServerCodecTest, MessagesSplitAcrossSlicesAtEveryByte) {
  const std::string cl_request = post("Content-Length: 11\r\n") + "hello world";
  for (size_t k = 1; k < kChunked.size(); ++k) {
    Server s;
    net::Buffer tail;
    s.input.add(kChunked.substr(0, k));
    tail.add(kChunked.substr(k));
    s.input.move(tail);
    EXPECT_FALSE(s.codec->dispatch(s.input)) << k;
    ASSERT_EQ(s.requests.size(), 1u) << k;
    expectChunkedRequest(s.last());
  }
  for (size_t k = 1; k < cl_request.size(); ++k) {
    Server s;
    net::Buffer tail;
    s.input.add(std::string_view(cl_request).substr(0, k));
    tail.add(std::string_view(cl_request).substr(k));
    s.input.move(tail);
    EXPECT_FALSE(s.codec->dispatch(s.input)) << k;
    ASSERT_EQ(s.requests.size(), 1u) << k;
    EXPECT_EQ(s.last().body, "hello world") << k;
    EXPECT_TRUE(s.last().ended);
  }
}

TEST(Http1ServerCodecTest, HeaderBlockLargerThanASlice) {
  Server s;
  const std::string big(20000, 'v');
  EXPECT_FALSE(s.feed("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + big + "\r\nX-After: 1\r\n\r\n"));
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.last().get("x-big"), big);
  EXPECT_EQ(s.last().get("x-after"), "1");
}

// ---- keep-alive and pipelining

TEST(Http1ServerCodecTest, KeepAliveSequence) {
  Server s;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(s.feed(kGet));
    ASSERT_EQ(s.requests.size(), static_cast<size_t>(i + 1));
    respond(s.last(), 200, "hello");
    EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    EXPECT_FALSE(s.out.closed);
    EXPECT_FALSE(s.codec->hasPendingInput());
    EXPECT_FALSE(s.codec->closeAfterResponse());
  }
}

// A trickling client extends the caller's buffer in place: the codec takes
// nothing until a request is whole, so its bytes are never moved piecemeal.
TEST(Http1ServerCodecTest, IncompleteRequestStaysInTheCallersBuffer) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.1\r\nHo"));
  EXPECT_TRUE(s.requests.empty());
  EXPECT_EQ(s.input.toString(), "GET / HTTP/1.1\r\nHo");
  EXPECT_FALSE(s.codec->hasPendingInput());
  EXPECT_FALSE(s.feed("st: h\r\n\r\n"));
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_TRUE(s.input.empty());
}

// Requests queued behind an outstanding response are held by the codec; past
// 64 KiB it stops reading until that response completes.
TEST(Http1ServerCodecTest, PipelinedBacklogPastTheCapStopsReading) {
  Server s;
  std::string many;
  while (many.size() <= 64 * 1024) many += "GET /n HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_FALSE(s.feed("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n" + many));
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_TRUE(s.input.empty());
  EXPECT_TRUE(s.codec->hasPendingInput());
  EXPECT_EQ(s.out.read_disabled, 1);
  respond(s.last(), 200, "1");
  EXPECT_EQ(s.out.read_disabled, 0);
  EXPECT_FALSE(s.codec->dispatch(s.input));
  EXPECT_EQ(s.requests.size(), 2u);
}

// Found by fuzz/http1_server_codec_fuzz.cc: a request trickling in byte by
// byte behind an outstanding response piled up one slice per read, and the
// header parser then re-read the first 64 slices forever.
TEST(Http1ServerCodecTest, RequestTricklingBehindAResponseIsParsedWhenItsTurnComes) {
  Server s;
  EXPECT_FALSE(s.feed("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\n"));
  ASSERT_EQ(s.requests.size(), 1u);
  const std::string rest = "Host: h\r\nX-Long: " + std::string(300, 'v') + "\r\n\r\n";
  EXPECT_FALSE(s.feedBytewise(rest));
  EXPECT_EQ(s.requests.size(), 1u);
  respond(s.last(), 200, "1");
  EXPECT_FALSE(s.codec->dispatch(s.input));
  ASSERT_EQ(s.requests.size(), 2u);
  EXPECT_EQ(s.last().get(":path"), "/2");
  EXPECT_EQ(s.last().get("x-long"), std::string(300, 'v'));
}

TEST(Http1ServerCodecTest, PipelinedRequestsAreDecodedOneAtATimeInOrder) {
  Server s;
  std::string three;
  const std::vector<std::string> paths = {"/1", "/2", "/3"};
  for (const auto& p : paths) three.append("GET ").append(p).append(" HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_FALSE(s.feed(three));
  for (size_t i = 0; i < paths.size(); ++i) {
    ASSERT_EQ(s.requests.size(), i + 1);
    EXPECT_EQ(s.last().get(":path"), paths[i]);
    EXPECT_EQ(s.codec->hasPendingInput(), i + 1 < paths.size());  // the later requests wait in the codec
    EXPECT_FALSE(s.codec->dispatch(s.input));  // still paused: nothing new
    EXPECT_EQ(s.requests.size(), i + 1);
    respond(s.last(), 200, paths[i].substr(1));
    EXPECT_EQ(s.codec->hasPendingInput(), i + 1 < paths.size());
    EXPECT_FALSE(s.codec->dispatch(s.input));
  }
  EXPECT_EQ(s.requests.size(), 3u);
  EXPECT_EQ(s.out.take(),
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n1"
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n2"
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n3");
}

TEST(Http1ServerCodecTest, ResponseFromInsideTheCallbackContinuesWithTheNextRequest) {
  Server s;
  // A decoder that answers at once and re-enters dispatch(), as a local reply would.
  struct Answering : Request {
    Server* s = nullptr;
    void decodeHeaders(HeaderMap& h, bool end_stream) override {
      Request::decodeHeaders(h, end_stream);
      respond(*this, 204, "");
      EXPECT_FALSE(s->codec->dispatch(s->input));  // nested: returns at once
    }
  };
  std::vector<std::unique_ptr<Answering>> answered;
  struct Callbacks : ServerCodecCallbacks {
    std::vector<std::unique_ptr<Answering>>* list;
    Server* s;
    MessageDecoder& onNewRequest(MessageEncoder& e) override {
      list->push_back(std::make_unique<Answering>());
      list->back()->encoder = &e;
      list->back()->s = s;
      return *list->back();
    }
  } cb;
  cb.list = &answered;
  cb.s = &s;
  s.codec = makeHttp1ServerCodec(s.out, cb, {});
  EXPECT_FALSE(s.feed(std::string(kGet) + std::string(kGet) + std::string(kGet)));
  EXPECT_EQ(answered.size(), 3u);
  EXPECT_EQ(s.out.take(),
            "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
}

TEST(Http1ServerCodecTest, ConnectionCloseFromClient) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" + std::string(kGet)));
  EXPECT_TRUE(s.codec->closeAfterResponse());
  respond(s.last(), 200, "x");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\nx");
  EXPECT_TRUE(s.out.closed);
  EXPECT_FALSE(s.codec->dispatch(s.input));
  EXPECT_EQ(s.requests.size(), 1u);  // the pipelined request is never answered
}

TEST(Http1ServerCodecTest, ConnectionCloseFromResponse) {
  Server s;
  EXPECT_FALSE(s.feed(kGet));
  HeaderMap h;
  h.setStatus(200);
  h.add("Connection", "close");
  h.add("content-length", "0");
  s.last().encoder->encodeHeaders(h, true);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_TRUE(s.out.closed);
}

TEST(Http1ServerCodecTest, Http10KeepAliveIsEchoed) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_FALSE(s.codec->closeAfterResponse());
  respond(s.last(), 200, "ok");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok");
  EXPECT_FALSE(s.out.closed);
}

TEST(Http1ServerCodecTest, Http10ResponseWithoutLengthIsCloseDelimited) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  respond(s.last(), 200, "body bytes", /*with_length=*/false);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nbody bytes");
  EXPECT_TRUE(s.out.closed);
  EXPECT_TRUE(s.codec->closeAfterResponse());
}

TEST(Http1ServerCodecTest, Http10WithoutKeepAliveCloses) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.0\r\n\r\n"));
  respond(s.last(), 200, "ok");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  EXPECT_TRUE(s.out.closed);
}

// ---- response encoding

TEST(Http1ServerCodecTest, ChunkedResponseWithTrailers) {
  Server s;
  EXPECT_FALSE(s.feed(kGet));
  MessageEncoder& e = *s.last().encoder;
  HeaderMap h;
  h.setStatus(200);
  h.add("X-A", "1");
  h.add("transfer-encoding", "gzip");  // ours to decide: dropped
  h.add("keep-alive", "timeout=5");
  e.encodeHeaders(h, false);
  net::Buffer b;
  b.add("hello");
  e.encodeData(b, false);
  net::Buffer empty;
  e.encodeData(empty, false);
  HeaderMap t;
  t.add("grpc-status", "0");
  e.encodeTrailers(t);
  EXPECT_EQ(s.out.take(),
            "HTTP/1.1 200 OK\r\nX-A: 1\r\ntransfer-encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n"
            "0\r\ngrpc-status: 0\r\n\r\n");
  EXPECT_FALSE(s.out.closed);
  EXPECT_FALSE(s.codec->hasPendingInput());
}

TEST(Http1ServerCodecTest, ChunkedResponseEndsWithLastChunk) {
  Server s;
  EXPECT_FALSE(s.feed(kGet));
  respond(s.last(), 200, "abc", /*with_length=*/false);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
}

TEST(Http1ServerCodecTest, TrailersWithoutChunkingAreDropped) {
  Server s;
  EXPECT_FALSE(s.feed(kGet));
  MessageEncoder& e = *s.last().encoder;
  HeaderMap h;
  h.setStatus(200);
  h.add("content-length", "2");
  e.encodeHeaders(h, false);
  net::Buffer b;
  b.add("ok");
  e.encodeData(b, false);
  HeaderMap t;
  t.add("x-t", "1");
  e.encodeTrailers(t);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  EXPECT_FALSE(s.codec->hasPendingInput());
}

TEST(Http1ServerCodecTest, HeadersOnlyResponseGetsZeroLength) {
  Server s;
  EXPECT_FALSE(s.feed(kGet));
  HeaderMap h;
  h.setStatus(404);
  s.last().encoder->encodeHeaders(h, true);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
}

TEST(Http1ServerCodecTest, HeadResponseHasNoBody) {
  Server s;
  EXPECT_FALSE(s.feed("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"));
  respond(s.last(), 200, "hello");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
  EXPECT_FALSE(s.out.closed);
  // Without a length: no chunking either, and still keep-alive.
  EXPECT_FALSE(s.feed("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"));
  respond(s.last(), 200, "hello", /*with_length=*/false);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_FALSE(s.out.closed);
}

TEST(Http1ServerCodecTest, NoBodyStatuses) {
  for (int status : {204, 304}) {
    Server s;
    EXPECT_FALSE(s.feed(kGet));
    MessageEncoder& e = *s.last().encoder;
    HeaderMap h;
    h.setStatus(status);
    h.add("content-length", "5");
    e.encodeHeaders(h, false);
    net::Buffer b;
    b.add("hello");
    e.encodeData(b, true);
    const std::string wire = s.out.take();
    EXPECT_EQ(wire.find("hello"), std::string::npos) << status;
    EXPECT_EQ(wire.find("transfer-encoding"), std::string::npos) << status;
    // RFC 9110 8.6: never on 204; a 304 may repeat the length of the full response.
    EXPECT_EQ(wire.find("content-length") != std::string::npos, status == 304) << wire;
    EXPECT_FALSE(s.out.closed);
  }
}

TEST(Http1ServerCodecTest, OverlongBodyIsCutAndCloses) {
  Server s;
  EXPECT_FALSE(s.feed(kGet));
  MessageEncoder& e = *s.last().encoder;
  HeaderMap h;
  h.setStatus(200);
  h.add("content-length", "3");
  e.encodeHeaders(h, false);
  net::Buffer b;
  b.add("abcdef");
  e.encodeData(b, true);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc");
  EXPECT_TRUE(s.out.closed);
}

TEST(Http1ServerCodecTest, EarlyResponseClosesTheConnection) {
  Server s;
  EXPECT_FALSE(s.feed(post("Content-Length: 100\r\n") + "partial"));
  respond(s.last(), 413, "");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_TRUE(s.out.closed);
  const std::string body_before = s.last().body;
  EXPECT_FALSE(s.feed("more body"));
  EXPECT_EQ(s.last().body, body_before);  // the stream is over: nothing more is delivered
}

TEST(Http1ServerCodecTest, ErrorResponseAfterBodyErrorCloses) {
  Server s;
  EXPECT_FALSE(s.feed(post("Transfer-Encoding: chunked\r\n")));
  ASSERT_TRUE(s.feed("zz\r\n"));
  respond(s.last(), 400, "bad");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\nconnection: close\r\n\r\nbad");
  EXPECT_TRUE(s.out.closed);
}

// ---- Expect: 100-continue

TEST(Http1ServerCodecTest, ExpectContinue) {
  Server s;
  EXPECT_FALSE(s.feed(post("Expect: 100-continue\r\nContent-Length: 5\r\n")));
  Request& r = s.last();
  EXPECT_FALSE(r.has("expect"));
  EXPECT_FALSE(r.ended);
  s.codec->send100Continue();
  s.codec->send100Continue();
  EXPECT_EQ(s.out.take(), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_FALSE(s.feed("hello"));
  EXPECT_EQ(r.body, "hello");
  EXPECT_TRUE(r.ended);
  s.codec->send100Continue();  // the body is in: nothing to continue
  EXPECT_EQ(s.out.take(), "");
}

TEST(Http1ServerCodecTest, NoContinueOnceTheResponseStarted) {
  Server s;
  EXPECT_FALSE(s.feed(post("Expect: 100-continue\r\nContent-Length: 5\r\n")));
  HeaderMap h;
  h.setStatus(200);
  s.last().encoder->encodeHeaders(h, false);
  s.out.take();
  s.codec->send100Continue();
  EXPECT_EQ(s.out.take(), "");
}

TEST(Http1ServerCodecTest, NoContinueWithoutExpectOrOnHttp10) {
  {
    Server s;
    EXPECT_FALSE(s.feed(post("Content-Length: 5\r\n")));
    s.codec->send100Continue();
    EXPECT_EQ(s.out.take(), "");
  }
  Server s;
  EXPECT_FALSE(s.feed("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  s.codec->send100Continue();
  EXPECT_EQ(s.out.take(), "");
}

TEST(Http1ServerCodecTest, OtherExpectationsAreForwarded) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n"));
  EXPECT_EQ(s.last().get("expect"), "something");
}

// ---- Upgrade

constexpr std::string_view kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n";

TEST(Http1ServerCodecTest, UpgradeSwitchesToRawTunnel) {
  Server s;
  EXPECT_FALSE(s.feed(std::string(kUpgrade) + "early"));
  ASSERT_EQ(s.requests.size(), 1u);
  Request& r = s.last();
  EXPECT_FALSE(r.ended);  // the stream stays open for the tunnel
  EXPECT_EQ(r.get("connection"), "upgrade");
  EXPECT_EQ(r.get("upgrade"), "websocket");
  EXPECT_TRUE(s.codec->hasPendingInput());  // the codec holds the early bytes
  EXPECT_TRUE(s.input.empty());

  HeaderMap h;
  h.setStatus(101);
  h.add("upgrade", "websocket");
  h.add("connection", "upgrade");
  h.add("sec-websocket-accept", "a");
  r.encoder->encodeHeaders(h, false);
  EXPECT_EQ(s.out.take(),
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nsec-websocket-accept: a\r\n"
            "connection: upgrade\r\n\r\n");
  EXPECT_TRUE(s.codec->hasPendingInput());
  EXPECT_FALSE(s.codec->dispatch(s.input));
  EXPECT_EQ(r.body, "early");
  EXPECT_FALSE(s.feed(lit("GET / HTTP/1.1\r\n\r\n\x00\xff")));  // not HTTP anymore
  EXPECT_EQ(r.body, "early" + lit("GET / HTTP/1.1\r\n\r\n\x00\xff"));
  EXPECT_FALSE(r.ended);

  net::Buffer b;
  b.add("pong");
  r.encoder->encodeData(b, false);
  EXPECT_EQ(s.out.take(), "pong");
  EXPECT_FALSE(s.out.closed);
  b.add("bye");
  r.encoder->encodeData(b, true);
  EXPECT_EQ(s.out.take(), "bye");
  EXPECT_TRUE(s.out.closed);
}

TEST(Http1ServerCodecTest, DeclinedUpgradeClosesAfterTheResponse) {
  Server s;
  EXPECT_FALSE(s.feed(std::string(kUpgrade) + std::string(kGet)));
  respond(s.last(), 403, "no");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno");
  EXPECT_TRUE(s.out.closed);
  EXPECT_FALSE(s.codec->dispatch(s.input));
  EXPECT_EQ(s.requests.size(), 1u);
}

TEST(Http1ServerCodecTest, UpgradeFieldWithoutConnectionUpgradeIsDropped) {
  Server s;
  EXPECT_FALSE(s.feed("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"));
  EXPECT_FALSE(s.last().has("upgrade"));
  EXPECT_FALSE(s.last().has("connection"));
  EXPECT_TRUE(s.last().ended);
}

TEST(Http1ServerCodecTest, UpgradeWithBodyIsAPlainRequest) {
  Server s;
  EXPECT_FALSE(
      s.feed("POST / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nhi"));
  EXPECT_FALSE(s.last().has("upgrade"));
  EXPECT_TRUE(s.last().ended);
  EXPECT_EQ(s.last().body, "hi");
}

}  // namespace
}  // namespace sluice::http

// ---- drain notice and rejected requests

namespace sluice::http {
namespace {

TEST(Http1ServerCodecTest, ShutdownNoticeClosesAfterTheNextResponse) {
  Server s;
  EXPECT_FALSE(s.feed("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"));
  s.codec->shutdownNotice();
  respond(s.last(), 200, "ok");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  EXPECT_TRUE(s.out.closed);
  EXPECT_TRUE(s.codec->closeAfterResponse());
}

TEST(Http1ServerCodecTest, ShutdownNoticeDuringAStartedResponseWaitsForTheNextOne) {
  Server s;
  EXPECT_FALSE(s.feed("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"));
  HeaderMap h;
  h.setStatus(200);
  h.add("content-length", "2");
  s.last().encoder->encodeHeaders(h, false);
  s.codec->shutdownNotice();  // the head is out: this response cannot say it
  net::Buffer b;
  b.add("ok");
  s.last().encoder->encodeData(b, true);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  EXPECT_FALSE(s.out.closed);
  EXPECT_FALSE(s.feed("GET /b HTTP/1.1\r\nHost: h\r\n\r\n"));
  respond(s.last(), 200, "ok");
  EXPECT_EQ(s.out.take(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  EXPECT_TRUE(s.out.closed);
}

TEST(Http1ServerCodecTest, RejectEncoderAnswersAMalformedRequestAndCloses) {
  Server s;
  auto err = s.feed("GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n");
  ASSERT_TRUE(err);
  EXPECT_TRUE(s.requests.empty());
  HeaderMap h;
  h.setStatus(err->status);
  h.add("content-type", "text/plain");
  h.add("content-length", "4");
  auto& enc = s.codec->rejectEncoder();
  enc.encodeHeaders(h, false);
  net::Buffer b;
  b.add("bad\n");
  enc.encodeData(b, true);
  EXPECT_EQ(s.out.take(),
            "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbad\n");
  EXPECT_TRUE(s.out.closed);
}

TEST(Http1ServerCodecTest, RejectEncoderAnswersAnIncompleteRequest) {
  Server s;
  EXPECT_FALSE(s.feed("GET /slow HTTP/1.1\r\nHo"));  // too slow: the manager gives up (408)
  HeaderMap h;
  h.setStatus(408);
  h.add("content-length", "0");
  s.codec->rejectEncoder().encodeHeaders(h, true);
  EXPECT_EQ(s.out.take(), "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_TRUE(s.out.closed);
  EXPECT_FALSE(s.feed("st: h\r\n\r\n")) << "nothing is parsed after a reject";
  EXPECT_TRUE(s.requests.empty());
}

}  // namespace
}  // namespace sluice::http
