// The HTTP/1 parser reads plain response heads itself and leaves the rest to
// Beast (PlainHeads in http1_parser.h). Each case here is read both ways and
// must come out the same; the plain ones must not have needed Beast, and the
// others must have. (fuzz/http1_response_head_fuzz.cc checks the sameness on
// any input.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/http1_parser.h"

namespace sluice::http {
namespace {

struct Reading {
  ParseEvent event = ParseEvent::kNeedMore;
  std::vector<std::pair<std::string, std::string>> fields;
  int status = 0;
  int minor = 0;
  bool keep_alive = false;
  bool eof_delimited = false;
  bool complete = false;
  std::string body;
  std::string error;
  bool beast = false;

  bool operator==(const Reading&) const = default;
};

void PrintTo(const Reading& r, std::ostream* os) {
  *os << "event " << static_cast<int>(r.event) << " status " << r.status << " minor " << r.minor << " keep-alive "
      << r.keep_alive << " eof-delimited " << r.eof_delimited << " complete " << r.complete << " body '" << r.body
      << "' error '" << r.error << "' beast " << r.beast << " fields:";
  for (const auto& [n, v] : r.fields) *os << " [" << n << ": " << v << "]";
}

Reading read(std::string_view bytes, PlainHeads mode, bool head = false) {
  const Http1ParserLimits limits;
  Http1Parser<false> parser(limits, mode);
  parser.reset(head);
  net::Buffer in;
  in.add(bytes);
  Reading r;
  r.event = parser.next(in);
  r.beast = parser.readByBeast();
  if (r.event == ParseEvent::kError) {
    r.error = parser.error().detail;
    return r;
  }
  parser.headers().forEach([&](std::string_view n, std::string_view v) { r.fields.emplace_back(n, v); });
  r.status = parser.status();
  r.minor = parser.minor();
  r.keep_alive = parser.keepAlive();
  r.eof_delimited = parser.closeDelimited();
  r.complete = parser.complete();
  while (!parser.complete()) {
    const ParseEvent e = parser.next(in);
    if (e == ParseEvent::kData) {
      r.body += parser.body().toString();
      parser.body().clear();
    } else {
      break;
    }
  }
  return r;
}

// Both readings agree; `plain` says which reader the default mode used.
void expectSameReading(std::string_view bytes, bool plain, bool head = false) {
  SCOPED_TRACE(std::string(bytes));
  Reading fast = read(bytes, PlainHeads::kRead, head);
  const Reading beast = read(bytes, PlainHeads::kBeastOnly, head);
  EXPECT_TRUE(beast.beast);
  EXPECT_EQ(fast.beast, !plain);
  fast.beast = beast.beast;
  EXPECT_EQ(fast, beast);
}

TEST(Http1ResponseHeadTest, PlainHeadsAreReadWithoutBeastAndAsBeastReadsThem) {
  // What an NGINX upstream answers.
  expectSameReading(
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 01:00:00 GMT\r\n"
      "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n",
      true);
  // Values lose the whitespace around them, not inside them; names keep their case.
  expectSameReading("HTTP/1.1 404 Not Found\r\nX-Odd: \t a  b \t\r\nx-EMPTY:\r\nCONTENT-LENGTH: 0\r\n\r\n", true);
  // No framing: the body runs to EOF, and HTTP/1.0 does not keep the connection.
  expectSameReading("HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nto the end", true);
  expectSameReading("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", true);
  // An empty reason phrase; obs-text in values.
  expectSameReading("HTTP/1.1 500 \r\nX-Obs: caf\xc3\xa9\r\nContent-Length: 1\r\n\r\nx", true);
  // No body whatever the length says: 204, 304 and the answer to HEAD.
  expectSameReading("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", true);
  expectSameReading("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", true);
  expectSameReading("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, /*head=*/true);
  // Connection names fields to drop; close ends keep-alive; hop-by-hop fields go.
  expectSameReading(
      "HTTP/1.1 200 OK\r\nConnection: close, X-Drop ,, keep-alive\r\nX-Drop: 1\r\nX-Keep: 2\r\n"
      "Proxy-Connection: close\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nContent-Length: 0\r\n\r\n",
      true);
}

TEST(Http1ResponseHeadTest, EverythingElseIsLeftToBeast) {
  // Interim and switching responses.
  expectSameReading("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", false);
  expectSameReading("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", false);
  // Upgrade on a final response is dropped, by Beast's path.
  expectSameReading("HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n", false);
  // Chunked framing, and Transfer-Encoding in any form.
  expectSameReading("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false);
  expectSameReading("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", false);
  // Content-Length as a list, twice, too long, signed or empty.
  expectSameReading("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", false);
  expectSameReading("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false);
  expectSameReading("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", false);
  expectSameReading("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false);
  expectSameReading("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", false);
  expectSameReading("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false);
  // Connection values that are not lists of single tokens.
  expectSameReading("HTTP/1.1 200 OK\r\nConnection: a b\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("HTTP/1.1 200 OK\r\nConnection: \"close\"\r\nContent-Length: 0\r\n\r\n", false);
  // Start lines Beast refuses or reads its own way.
  expectSameReading("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
  // Field names that are not tokens, and controls in values.
  expectSameReading("HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("HTTP/1.1 200 OK\r\nX-A : x\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("HTTP/1.1 200 OK\r\nX-A: a\x01z\r\nContent-Length: 0\r\n\r\n", false);
  expectSameReading("HTTP/1.1 200 O\x7fK\r\nContent-Length: 0\r\n\r\n", false);
}

}  // namespace
}  // namespace sluice::http
