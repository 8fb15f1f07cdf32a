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

}  // namespace
}  // namespace sluice::http
