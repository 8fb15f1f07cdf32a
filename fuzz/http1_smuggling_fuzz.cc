// libFuzzer target: a smuggling oracle for the HTTP/1 server codec. One
// input, one framing: the requests the codec delivers (and the proxy would
// forward) must be the requests a second, independent reader finds in the
// same bytes, with the same boundaries.
//
// The second reader is Boost.Beast's request_parser fed the whole input at
// once, a fresh parser per message, with the empty lines between requests
// skipped as RFC 9112 2.2 allows (the codec does the same). Beast also does
// the codec's grammar, so what this compares is the framing the codec adds
// on top: its header pre-scan, Content-Length bodies moved slice by slice
// outside Beast, chunked bodies staged across slices, the pipelining
// backlog, and where one request ends and the next begins. The codec gets
// the bytes in input-chosen slices (byte 0: 1-64 bytes a read) and answers
// each request as soon as it ends, as in http1_server_codec.
//
// What counts as a finding, for the n-th request the codec delivers:
// - its head was delivered but the reader finds no n-th request, or one
//   with another method or target;
// - it completed but the reader's n-th request is incomplete or has another
//   body;
// - body bytes were delivered that are not a prefix of the reader's n-th body.
// Not a finding: the codec refusing what the reader accepts (it is stricter
// on purpose: bare LF, obs-fold, Transfer-Encoding rules, limits), or
// stopping early (Connection: close, HTTP/1.0, an upgrade): it forwards
// less, never something else.
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/http1_codec.h"
#include "proxy/net/buffer.h"

namespace {

using namespace sluice;
namespace bhttp = boost::beast::http;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Request {
  std::string method;
  std::string target;
  std::string body;
  bool complete = false;
};

// ---- the reader

std::vector<Request> readAll(std::string_view wire) {
  std::vector<Request> out;
  size_t at = 0;
  for (;;) {
    while (wire.substr(at, 2) == "\r\n") at += 2;
    if (at >= wire.size()) return out;
    // A dynamic body, not a string: a string body reserves a huge
    // Content-Length up front, before a byte of it arrived.
    bhttp::request_parser<bhttp::dynamic_body> p;
    p.eager(true);
    p.header_limit(std::numeric_limits<uint32_t>::max());
    p.body_limit(std::numeric_limits<uint64_t>::max());
    boost::beast::error_code ec;
    while (!p.is_done() && at < wire.size()) {
      const size_t n = p.put(boost::asio::const_buffer(wire.data() + at, wire.size() - at), ec);
      at += n;
      if (ec || n == 0) break;
    }
    // Refused in its head: no request. Refused in its body: a request whose
    // head was read and whose body stops there, as the codec's does.
    if (!p.is_header_done()) return out;
    const bool refused = ec && ec != bhttp::error::need_more;
    Request r;
    r.method = std::string(p.get().method_string());
    r.target = std::string(p.get().target());
    r.body = boost::beast::buffers_to_string(p.get().body().data());
    r.complete = p.is_done() && !refused;
    out.push_back(std::move(r));
    if (!out.back().complete) return out;
  }
}

// ---- the codec

struct Sink : http::CodecOutput {
  void writeBytes(net::Buffer& data, bool end_stream) override {
    data.clear();
    closed = closed || end_stream;
  }
  bool closed = false;
};

struct Exchange : http::MessageDecoder {
  http::MessageEncoder* response = nullptr;
  Request seen;
  void decodeHeaders(http::HeaderMap& h, bool end_stream) override {
    seen.method = std::string(h.method());
    seen.target = std::string(h.path());
    seen.complete = end_stream;
  }
  void decodeData(net::Buffer& data, bool end_stream) override {
    seen.body += data.toString();
    data.clear();
    seen.complete = seen.complete || end_stream;
  }
  void decodeTrailers(http::HeaderMap&) override { seen.complete = true; }
};

struct Server : http::ServerCodecCallbacks {
  std::vector<std::unique_ptr<Exchange>> exchanges;
  http::MessageDecoder& onNewRequest(http::MessageEncoder& response) override {
    exchanges.push_back(std::make_unique<Exchange>());
    exchanges.back()->response = &response;
    return *exchanges.back();
  }
};

void answerEnded(Server& server) {
  for (auto& e : server.exchanges) {
    if (!e->seen.complete || e->response == nullptr) continue;
    http::HeaderMap h;
    h.setStatus(200);
    h.add("content-length", "2");
    e->response->encodeHeaders(h, false);
    net::Buffer body;
    body.add("ok");
    e->response->encodeData(body, true);
    e->response = nullptr;
  }
}

// Feeds `wire` as the connection would; stops where the codec stops.
void runCodec(std::string_view wire, size_t slice, Server& server) {
  Sink out;
  http::CodecLimits limits;
  limits.max_request_headers_bytes = 8192;
  auto codec = http::makeHttp1ServerCodec(out, server, limits);
  net::Buffer pending;
  for (size_t at = 0; at < wire.size() && !out.closed; at += slice) {
    pending.add(wire.substr(at, slice));
    if (codec->dispatch(pending)) return;
    answerEnded(server);
    while (codec->hasPendingInput() && !out.closed) {
      const size_t before = server.exchanges.size();
      net::Buffer none;
      if (codec->dispatch(none)) return;
      answerEnded(server);
      if (server.exchanges.size() == before) break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t slice = 1 + data[0] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);
  Server server;
  runCodec(wire, slice, server);
  const std::vector<Request> reader = readAll(wire);
  for (size_t i = 0; i < server.exchanges.size(); ++i) {
    const Request& ours = server.exchanges[i]->seen;
    check(i < reader.size());
    const Request& theirs = reader[i];
    check(ours.method == theirs.method && ours.target == theirs.target);
    check(theirs.body.compare(0, ours.body.size(), ours.body) == 0 && ours.body.size() <= theirs.body.size());
    if (ours.complete) check(theirs.complete && ours.body == theirs.body);
  }
  return 0;
}
