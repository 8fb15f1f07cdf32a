// libFuzzer target: the HTTP/1 client codec (proxy/http/http1_client_codec.cc),
// which reads what an upstream answers: status lines, 1xx, HEAD/204/304
// without a body, Content-Length, chunked bodies with trailers,
// close-delimited bodies and 101 tunnels, arriving in input-chosen slices.
//
// Input: byte 0 chooses the requests (bits 0-2: the first request's kind,
// each next one the kind after; bit 3: start the next request from inside
// the callback that ends a response, as a pool handing the connection
// straight on would), byte 1 the read size (1-64 bytes), the rest is what
// the upstream sends; the upstream's FIN follows it.
//
// Properties, checked on every response the codec completes:
// - its head ends, its body is and the next response starts where an
//   independent reading of the framing (fuzz/support/response_framing.h)
//   says; a response that reading finds complete is never left waiting;
// - the decoder calls come in order (headers, data*, trailers?, nothing
//   after end_stream), and nothing is delivered after an error;
// - a 502 from dispatch() is also reported through onResponseError(), once;
//   an incomplete response at EOF is a 503 and the reading agrees it is
//   incomplete.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/support/response_framing.h"
#include "proxy/http/http1_codec.h"
#include "proxy/net/buffer.h"

namespace {

using namespace sluice;

// Names the property that broke before failing: the triage starts there.
void check(bool ok, const char* property) {
  if (ok) return;
  std::fprintf(stderr, "http1_client_codec: %s\n", property);
  std::abort();
}

enum class Kind { kGet, kHead, kPost, kPostUnfinished, kUpgrade, kCount };

struct Harness;

struct Exchange final : http::MessageDecoder {
  Exchange(Harness& h, Kind k) : harness(h), kind(k) {}
  void decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  void decodeData(net::Buffer& data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap& trailers) override;
  void ended();

  Harness& harness;
  const Kind kind;
  size_t start = 0;     // where its response starts in the input
  size_t head_end = 0;  // where the codec finished reading its head
  std::string body;
  bool headers = false;
  bool done = false;
};

struct Harness final : http::CodecOutput, http::ClientCodecCallbacks {
  void writeBytes(net::Buffer& data, bool) override { data.clear(); }
  void onResponseError(std::string_view) override {
    check(!failed, "onResponseError() once");  // once
    failed = true;
    ++reported;
  }

  // Sends the next request; its response starts where the last one ended.
  void startRequest() {
    const Kind kind = static_cast<Kind>((first_kind + exchanges.size()) % static_cast<size_t>(Kind::kCount));
    exchanges.push_back(std::make_unique<Exchange>(*this, kind));
    Exchange& e = *exchanges.back();
    e.start = next_start;
    http::MessageEncoder& request = codec->newRequest(e);
    http::HeaderMap h;
    const bool post = kind == Kind::kPost || kind == Kind::kPostUnfinished;
    h.add(http::headers::kMethod, kind == Kind::kHead ? "HEAD" : post ? "POST" : "GET");
    h.add(http::headers::kPath, "/");
    h.add(http::headers::kAuthority, "upstream");
    h.add(http::headers::kScheme, "http");
    if (kind == Kind::kUpgrade) {
      h.add("connection", "upgrade");
      h.add("upgrade", "websocket");
    }
    request.encodeHeaders(h, !post);
    if (post) {
      net::Buffer b;
      b.add("body");
      request.encodeData(b, kind == Kind::kPost);
    }
  }

  Exchange* current() { return exchanges.empty() || exchanges.back()->done ? nullptr : exchanges.back().get(); }

  std::string_view wire;  // all the upstream will send
  size_t fed = 0;         // bytes handed to the codec so far
  net::Buffer pending;    // handed over, not taken yet
  std::unique_ptr<http::ClientCodec> codec;
  std::vector<std::unique_ptr<Exchange>> exchanges;
  size_t first_kind = 0;
  size_t next_start = 0;
  bool eager = false;
  bool failed = false;  // an error was returned or reported
  int reported = 0;
  bool at_eof = false;
};

void Exchange::decodeHeaders(http::HeaderMap& h, bool end_stream) {
  check(!harness.failed && !headers && !done, "headers first, once, and not after an error");
  headers = true;
  // The codec drained the head before this call: what is left is behind it.
  head_end = harness.fed - harness.pending.length();
  check(h.status() >= 101 && h.status() <= 999, "a final status");
  if (end_stream) ended();
}

void Exchange::decodeData(net::Buffer& data, bool end_stream) {
  check(!harness.failed && headers && !done, "data after headers, before the end, not after an error");
  body += data.toString();
  data.clear();
  if (end_stream) ended();
}

void Exchange::decodeTrailers(http::HeaderMap&) {
  check(!harness.failed && headers && !done, "trailers after headers, before the end, not after an error");
  ended();
}

void Exchange::ended() {
  done = true;
  const auto ref = fuzz::frameResponse(harness.wire, start, kind == Kind::kHead, kind == Kind::kUpgrade);
  check(ref.complete, "the reading finds the response complete");
  check(ref.head_end == head_end, "the head ends where the reading says");
  check(ref.body == body, "the body is what the framing says");
  // A close-delimited body (or a tunnel) ends only at the FIN.
  check(ref.close_delimited == harness.at_eof, "only a close-delimited response ends at EOF");
  check(ref.end <= harness.fed, "the response ends within the bytes fed");
  harness.next_start = ref.end;
  if (harness.eager && harness.codec->reusable()) harness.startRequest();
}

void noteError(Harness& h, const std::optional<http::CodecError>& err, bool eof) {
  if (!err) return;
  if (eof && err->status == 503) {
    check(!h.failed, "a 503 at EOF is not also a 502");  // a reset, not a malformed response: not reported
    h.failed = true;
    return;
  }
  check(err->status == 502 && h.failed && h.reported == 1, "a 502 is reported once through onResponseError()");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Harness h;
  h.first_kind = data[0] & 7;
  h.eager = (data[0] & 8) != 0;
  const size_t slice = 1 + data[1] % 64;
  h.wire = std::string_view(reinterpret_cast<const char*>(data + 2), size - 2);
  h.codec = http::makeHttp1ClientCodec(h, h);
  h.startRequest();
  while (h.fed < h.wire.size()) {
    const size_t n = std::min(slice, h.wire.size() - h.fed);
    h.pending.add(h.wire.substr(h.fed, n));
    h.fed += n;
    noteError(h, h.codec->dispatch(h.pending), false);
    if (!h.failed && !h.current() && h.codec->reusable()) h.startRequest();
  }
  Exchange* open = h.current();
  if (open != nullptr && !h.failed) {
    const auto ref = fuzz::frameResponse(h.wire, open->start, open->kind == Kind::kHead, open->kind == Kind::kUpgrade);
    // A response the independent reading finds complete was not left waiting.
    check(!ref.complete || ref.close_delimited, "a response the reading finds complete is not left waiting");
  }
  h.at_eof = true;
  const bool was_failed = h.failed;
  const auto err = h.codec->dispatchEof();
  noteError(h, err, true);
  if (err && err->status == 503 && !was_failed && open != nullptr) {
    check(!fuzz::frameResponse(h.wire, open->start, open->kind == Kind::kHead, open->kind == Kind::kUpgrade).complete,
          "a 503 at EOF only for a response the reading finds incomplete");
  }
  check(!h.codec->reusable(), "not reusable after EOF");
  return 0;
}
