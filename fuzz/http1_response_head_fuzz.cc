// libFuzzer target: the HTTP/1 parser's own reader of plain response heads
// (Http1Parser<false> with PlainHeads::kRead) against Beast reading every
// head (PlainHeads::kBeastOnly), on the same bytes.
//
// Input: byte 0 bit 0 says the first response answers a HEAD request; the
// rest is what the upstream sends, then EOF. Up to four responses are read
// in a row, as a keep-alive connection would.
//
// Property: the two parsers report the same events, the same fields in the
// same order, the same status, version, keep-alive, upgrade and framing
// facts, the same body bytes and trailers, and the same error. A head the
// plain reader takes must be one Beast takes the same way; everything else
// it must leave to Beast.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/http/http1_parser.h"
#include "proxy/net/buffer.h"

namespace {

using namespace sluice;

// Everything a reader of the parser can observe, as text.
std::string describe(http::HeaderMap& h) {
  std::string out;
  h.forEach([&](std::string_view n, std::string_view v) { out.append(n).append(": ").append(v).append("\n"); });
  return out;
}

std::string readAll(http::PlainHeads mode, const uint8_t* data, size_t size, bool head) {
  const http::Http1ParserLimits limits;
  http::Http1Parser<false> parser(limits, mode);
  net::Buffer in;
  in.add({reinterpret_cast<const char*>(data), size});
  std::string log;
  bool at_eof = false;
  for (int message = 0; message < 4; ++message) {
    parser.reset(head && message == 0);
    for (int step = 0; step < 64; ++step) {
      const http::ParseEvent e = at_eof ? parser.eof() : parser.next(in);
      log += "event " + std::to_string(static_cast<int>(e)) + "\n";
      switch (e) {
        case http::ParseEvent::kHeaders:
          log += describe(parser.headers());
          log += "status " + std::to_string(parser.status()) + " minor " + std::to_string(parser.minor()) +
                 " keep-alive " + std::to_string(parser.keepAlive()) + " upgrade " + std::to_string(parser.upgrade()) +
                 " eof-delimited " + std::to_string(parser.closeDelimited()) + " complete " +
                 std::to_string(parser.complete()) + "\n";
          break;
        case http::ParseEvent::kData:
          log += "data " + parser.body().toString() + "\n";
          parser.body().clear();
          break;
        case http::ParseEvent::kTrailers:
          log += describe(parser.trailers());
          break;
        case http::ParseEvent::kError:
          log += "error " + std::to_string(parser.error().status) + " " + parser.error().detail + "\n";
          return log;
        case http::ParseEvent::kNeedMore:
          if (at_eof) return log;
          at_eof = true;
          break;
      }
      if (parser.complete()) break;
    }
    if (!parser.complete() || parser.upgrade()) return log;
  }
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool head = (data[0] & 1) != 0;
  const std::string plain = readAll(http::PlainHeads::kRead, data + 1, size - 1, head);
  const std::string beast = readAll(http::PlainHeads::kBeastOnly, data + 1, size - 1, head);
  if (plain != beast) {
    std::fprintf(stderr, "http1_response_head: the readings differ\n--- plain reader:\n%s--- Beast:\n%s", plain.c_str(),
                 beast.c_str());
    std::abort();
  }
  return 0;
}
