// libFuzzer target: the HTTP/1 server codec (request parser, pre-scan,
// chunked framing, pipelining) fed untrusted bytes the way a connection
// would: in slices whose sizes come from the input. Every request is
// answered as soon as it ends, so pipelined requests keep being parsed.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

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

struct Exchange : http::MessageDecoder {
  http::MessageEncoder* response = nullptr;
  bool ended = false;
  void decodeHeaders(http::HeaderMap&, bool end_stream) override { ended = end_stream; }
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
