// libFuzzer target: the HTTP/2 server codec (proxy/http/http2_server_codec.cc,
// nghttp2 behind our codec contract) fed raw frames from a client. The
// input follows the client preface, which is prepended unless the input
// starts with it; it arrives in slices whose size comes from the input's
// length. A small connection manager here answers every complete request
// with a short response, so streams run to their end, and each slice is
// followed by one loop turn (frames leave at its end, deferred deletes run).
//
// Properties:
// - no crash, UB or leak (ASan, UBSan, LeakSanitizer);
// - once the codec closes the connection (closeConnection, or a write with
//   end_stream: GOAWAY sent) nothing more is decoded;
// - no callback names a stream after it was reset, and a stream's decode
//   calls come in order (headers, data*, trailers?; nothing after the end);
// - what the codec writes stays within a fixed multiple of what it was fed
//   (no amplification a client could turn into unbounded memory).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/http2_settings.h"
#include "proxy/event/loop.h"
#include "proxy/http/http2_codec.h"
#include "proxy/net/buffer.h"
#include "proxy/stats/stats.h"

namespace {

using namespace sluice;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Connection final : http::CodecOutput {
  void writeBytes(net::Buffer& data, bool end_stream) override {
    written += data.length();
    data.clear();
    closed = closed || end_stream;
  }
  void closeConnection() override { closed = true; }
  size_t written = 0;
  bool closed = false;
};

struct Manager;

struct Stream final : http::MessageDecoder {
  Stream(Manager& m, http::MessageEncoder& e) : manager(m), encoder(&e) {}
  void decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  void decodeData(net::Buffer& data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap& trailers) override;

  Manager& manager;
  http::MessageEncoder* encoder;  // null once reset or answered
  bool headers = false;
  bool ended = false;
};

struct Manager final : http::ServerCodecCallbacks {
  explicit Manager(Connection& c) : connection(c) {}
  http::MessageDecoder& onNewRequest(http::MessageEncoder& response) override {
    check(!connection.closed);
    streams.push_back(std::make_unique<Stream>(*this, response));
    return *streams.back();
  }
  void onStreamReset(http::MessageEncoder& response, http::StreamResetReason) override {
    Stream* s = find(response);
    check(s != nullptr);  // a stream the manager still holds
    s->encoder = nullptr;
  }
  void onStreamWatermark(http::MessageEncoder& response, bool) override { check(find(response) != nullptr); }
  Stream* find(const http::MessageEncoder& e) {
    for (auto& s : streams)
      if (s->encoder == &e) return s.get();
    return nullptr;
  }
  // Answers every request that has ended.
  void answer() {
    for (auto& s : streams) {
      if (!s->ended || s->encoder == nullptr || connection.closed) continue;
      http::MessageEncoder* e = s->encoder;
      s->encoder = nullptr;  // complete after the last call below
      http::HeaderMap h;
      h.setStatus(200);
      h.add("content-type", "text/plain");
      e->encodeHeaders(h, false);
      net::Buffer body;
      body.add("ok");
      e->encodeData(body, true);
    }
  }
  Connection& connection;
  std::vector<std::unique_ptr<Stream>> streams;
};

void Stream::decodeHeaders(http::HeaderMap&, bool end_stream) {
  check(!manager.connection.closed && encoder != nullptr && !headers && !ended);
  headers = true;
  ended = end_stream;
}

void Stream::decodeData(net::Buffer& data, bool end_stream) {
  check(!manager.connection.closed && encoder != nullptr && headers && !ended);
  data.clear();
  ended = end_stream;
}

void Stream::decodeTrailers(http::HeaderMap&) {
  check(!manager.connection.closed && encoder != nullptr && headers && !ended);
  ended = true;
}

// One loop turn: what the codec scheduled runs (its batched send), and
// deferred deletes are done.
void turn(event::Loop& loop) {
  loop.post([&loop] { loop.exit(); });
  loop.run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static event::Loop loop;  // one epoll and eventfd for the whole run
  std::string input(reinterpret_cast<const char*>(data), size);
  if (!input.starts_with(http::kHttp2Preface)) input.insert(0, http::kHttp2Preface);
  const size_t slice = 1 + (size % 61) * 16;

  stats::ListenerStats stats;
  Connection connection;
  Manager manager(connection);
  http::CodecLimits limits;
  limits.max_request_headers_bytes = 8192;
  config::Http2Settings settings;
  settings.max_concurrent_streams = 16;
  {
    auto codec = http::makeHttp2ServerCodec(connection, manager, limits, settings,
                                            http::Http2ServerContext{loop, stats, "fuzz"});
    net::Buffer pending;
    for (size_t at = 0; at < input.size() && !connection.closed; at += slice) {
      pending.add(std::string_view(input).substr(at, slice));
      const auto err = codec->dispatch(pending);
      turn(loop);
      if (err && err->scope == http::ErrorScope::Connection) break;
      manager.answer();
      turn(loop);
    }
    // A SETTINGS, a PING or a WINDOW_UPDATE is answered by a frame of about
    // its size; responses add a few dozen bytes a stream. 64 times the
    // input is far above either, and far below a flood.
    check(connection.written <= 64 * input.size() + 4096);
  }
  turn(loop);  // the codec's streams are deleted at the end of a turn
  return 0;
}
