// libFuzzer target: the HTTP/1 server codec (request parser, pre-scan,
// chunked framing, pipelining) fed untrusted bytes the way a connection
// would: in slices whose sizes come from the input. Every request is
// answered as soon as it ends, so pipelined requests keep being parsed.
// Every request it lets through must be in a form the proxy can route
// (checkRequest below).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "proxy/http/authority.h"
#include "proxy/http/http1_codec.h"
#include "proxy/net/buffer.h"

namespace {

using namespace sluice;

struct Sink : http::CodecOutput {
  void writeBytes(net::Buffer& data, bool end_stream) override {
    data.clear();
    closed = closed || end_stream;
  }
  bool closed = false;
};

void check(bool ok) {
  if (!ok) std::abort();
}

// What a request the codec lets through promises the rest of the proxy
// (RFC 9112 3.2): a :path in origin-form (or "*"), visible ASCII without a
// fragment; an :authority, when there is one, that is a valid uri-host[:port];
// HTTP/1.0 or 1.1 (higher minors read as 1).
void checkRequest(const http::HeaderMap& h) {
  const std::string_view path = h.path();
  check(path == "*" || (!path.empty() && path.front() == '/'));
  for (const char c : path) check(c > 0x20 && c < 0x7f && c != '#');
  if (const auto authority = h.get(http::headers::kAuthority))
    check(http::checkAuthority(*authority) == http::AuthorityError::None);
  const std::string_view minor = h.get(http::headers::kHttp1Minor).value_or("");
  check(minor == "0" || minor == "1");
  check(minor == "0" || h.has(http::headers::kAuthority));
}

struct Exchange : http::MessageDecoder {
  http::MessageEncoder* response = nullptr;
  bool ended = false;
  void decodeHeaders(http::HeaderMap& h, bool end_stream) override {
    checkRequest(h);
    ended = end_stream;
  }
  void decodeData(net::Buffer& data, bool end_stream) override {
    data.clear();
    ended = ended || end_stream;
  }
  void decodeTrailers(http::HeaderMap&) override { ended = true; }
};

struct Server : http::ServerCodecCallbacks {
  std::vector<std::unique_ptr<Exchange>> exchanges;
  http::MessageDecoder& onNewRequest(http::MessageEncoder& response) override {
    exchanges.push_back(std::make_unique<Exchange>());
    exchanges.back()->response = &response;
    return *exchanges.back();
  }
};

void answer(Exchange& e) {
  http::HeaderMap h;
  h.setStatus(200);
  h.add("content-length", "2");
  e.response->encodeHeaders(h, false);
  net::Buffer body;
  body.add("ok");
  e.response->encodeData(body, true);
  e.response = nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t slice = 1 + data[0] % 64;  // bytes per read
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  Sink out;
  Server server;
  http::CodecLimits limits;
  limits.max_request_headers_bytes = 4096;
  limits.max_request_body_bytes = 1 << 16;
  auto codec = http::makeHttp1ServerCodec(out, server, limits);
  net::Buffer pending;
  for (size_t at = 0; at < input.size() && !out.closed; at += slice) {
    pending.add(input.substr(at, slice));
    if (codec->dispatch(pending)) return 0;  // a refused request: the connection closes
    for (auto& e : server.exchanges)
      if (e->ended && e->response) answer(*e);
    while (codec->hasPendingInput() && !out.closed) {
      const size_t before = server.exchanges.size();
      net::Buffer none;
      if (codec->dispatch(none)) return 0;
      for (auto& e : server.exchanges)
        if (e->ended && e->response) answer(*e);
      if (server.exchanges.size() == before) break;  // waiting for more bytes
    }
  }
  codec->dispatchEof();
  return 0;
}
