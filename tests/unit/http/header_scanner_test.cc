// HeaderScanner: the pre-scan of an HTTP/1 header block. It steps over plain
// text 16 bytes at a time, so a NUL, bare CR or bare LF must be found
// wherever it falls in a long line: first or last in a step, or in the tail
// shorter than one. (Beast refuses some of these too; the scanner is what
// refuses them before Beast sees the block, with its own reason.)
#include <gtest/gtest.h>

#include <string>

#include "proxy/http/http1_parser.h"

namespace sluice::http {
namespace {

HeaderScanner::Result scanAll(std::string_view bytes, CodecError& error, bool request = false) {
  net::Buffer in;
  in.add(bytes);
  HeaderScanner scanner;
  return scanner.scan(in, Http1ParserLimits{}, request, error);
}

const std::string kValue(40, 'v');

std::string block(std::string_view value) {
  return "HTTP/1.1 200 OK\r\nX-Long: " + std::string(value) + "\r\nContent-Length: 0\r\n\r\n";
}

TEST(HeaderScannerTest, ALongCleanBlockIsCompleteAtItsEnd) {
  CodecError error;
  const std::string b = block(kValue);
  HeaderScanner scanner;
  net::Buffer in;
  in.add(b + "body");
  EXPECT_EQ(scanner.scan(in, Http1ParserLimits{}, false, error), HeaderScanner::Result::kComplete);
  EXPECT_EQ(scanner.length(), b.size());
}

TEST(HeaderScannerTest, ControlBytesAreFoundAtEveryOffsetOfALongLine) {
  const struct {
    char byte;
    const char* reason;
  } cases[] = {{'\0', "NUL in header block"}, {'\r', "bare CR in header block"}, {'\n', "bare LF in header block"}};
  for (const auto& c : cases) {
    for (size_t at = 0; at < kValue.size(); ++at) {
      std::string v = kValue;
      v[at] = c.byte;
      CodecError error;
      ASSERT_EQ(scanAll(block(v), error), HeaderScanner::Result::kError) << int(c.byte) << " at " << at;
      EXPECT_EQ(error.detail, c.reason) << int(c.byte) << " at " << at;
      EXPECT_EQ(error.status, 502);
    }
  }
}

TEST(HeaderScannerTest, ABlockCutShortInALongLineNeedsMore) {
  const std::string b = block(kValue);
  for (size_t n = 20; n < b.size() - 1; ++n) {
    CodecError error;
    ASSERT_EQ(scanAll(std::string_view(b).substr(0, n), error), HeaderScanner::Result::kNeedMore) << n;
  }
}

// Other controls pass the scanner (Beast decides about them) but mark the
// block as not plain text, which sends a response head to Beast: the plain
// reader relies on this instead of checking every byte again.
TEST(HeaderScannerTest, OtherControlBytesAreNotedAtEveryOffsetOfALongLine) {
  for (const char byte : {'\x01', '\x1f', '\x7f'}) {
    for (size_t at = 0; at < kValue.size(); ++at) {
      std::string v = kValue;
      v[at] = byte;
      net::Buffer in;
      in.add(block(v));
      HeaderScanner scanner;
      CodecError error;
      ASSERT_EQ(scanner.scan(in, Http1ParserLimits{}, false, error), HeaderScanner::Result::kComplete);
      EXPECT_FALSE(scanner.plainText()) << int(byte) << " at " << at;
    }
  }
  for (const std::string& v : {kValue, std::string("a\tb"), std::string("caf\xc3\xa9")}) {
    net::Buffer in;
    in.add(block(v));
    HeaderScanner scanner;
    CodecError error;
    ASSERT_EQ(scanner.scan(in, Http1ParserLimits{}, false, error), HeaderScanner::Result::kComplete);
    EXPECT_TRUE(scanner.plainText()) << v;
  }
}

// A whole block in one slice takes a one-pass path; a block that arrives a
// byte at a time goes through the state machine. Both must decide alike:
// same result, length, reason and plain-text note.
struct Outcome {
  HeaderScanner::Result result;
  size_t length;
  bool plain;
  std::string detail;
  bool operator==(const Outcome&) const = default;
};

Outcome scanAtOnce(std::string_view bytes, const Http1ParserLimits& limits, bool request) {
  net::Buffer in;
  in.add(bytes);
  HeaderScanner scanner;
  CodecError error;
  const auto r = scanner.scan(in, limits, request, error);
  return {r, r == HeaderScanner::Result::kComplete ? scanner.length() : 0, scanner.plainText(), error.detail};
}

Outcome scanByteByByte(std::string_view bytes, const Http1ParserLimits& limits, bool request) {
  net::Buffer in;
  HeaderScanner scanner;
  CodecError error;
  auto r = HeaderScanner::Result::kNeedMore;
  for (size_t i = 0; i < bytes.size() && r == HeaderScanner::Result::kNeedMore; ++i) {
    in.add(bytes.substr(i, 1));
    r = scanner.scan(in, limits, request, error);
  }
  return {r, r == HeaderScanner::Result::kComplete ? scanner.length() : 0, scanner.plainText(), error.detail};
}

TEST(HeaderScannerTest, AWholeBlockIsJudgedAsTheStateMachineJudgesIt) {
  Http1ParserLimits limits;
  limits.max_header_bytes = 200;
  limits.max_uri_bytes = 12;
  limits.max_fields = 3;
  const std::string responses[] = {
      "HTTP/1.1 200 OK\r\nA: 1\r\nB:\t2\r\n\r\nbody",
      "HTTP/1.1 200 OK\r\nA: \x01\x7f\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: 1\r\n",
      "HTTP/1.1 200 OK\r\nA: 1\r\n\r",
      "\r\nHTTP/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: 1\r\n\tfolded\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: 1\rB: 2\r\n\r\n",
      "HTTP/1.1 200 OK\nA: 1\r\n\r\n",
      std::string("HTTP/1.1 200 OK\r\nA: \0\r\n\r\n", 25),
      "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: " + std::string(160, 'a') + "\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: " + std::string(180, 'a') + "\r\n\r\n",
  };
  for (const std::string& b : responses) {
    EXPECT_EQ(scanAtOnce(b, limits, false), scanByteByByte(b, limits, false)) << b;
  }
  const std::string requests[] = {
      "GET /twelve-chars HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /thirteen-chr HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /thirteen-chars\r\n\r\n",
      "GET  /a HTTP/1.1\r\n\r\n",
      "GET\r\n\r\n",
      "GET /a\x01 HTTP/1.1\r\n\r\n",
  };
  for (const std::string& b : requests) {
    EXPECT_EQ(scanAtOnce(b, limits, true), scanByteByByte(b, limits, true)) << b;
  }
}

}  // namespace
}  // namespace sluice::http
