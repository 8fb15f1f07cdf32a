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
#include <cstdio>
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

struct Request {
  std::string method;
  std::string target;
  std::string body;
  bool complete = false;
};

// ---- the reader

// The codec forwards an absolute-form target (RFC 9112 3.2.2) as its
// authority and origin-form path; the reader keeps it as sent.
std::string originForm(std::string_view target) {
  const size_t scheme_end = target.find("://");
  if (target.empty() || target[0] == '/' || scheme_end == std::string_view::npos) return std::string(target);
  const std::string_view rest = target.substr(scheme_end + 3);
  const size_t path = rest.find_first_of("/?");
  if (path == std::string_view::npos) return "/";
  const std::string_view tail = rest.substr(path);
  return tail[0] == '?' ? "/" + std::string(tail) : std::string(tail);
}

std::vector<Request> readAll(std::string_view input) {
  std::string wire(input);
  std::vector<Request> out;
  size_t at = 0;
  for (;;) {
    while (wire.compare(at, 2, "\r\n") == 0) at += 2;
    if (at >= wire.size()) return out;
    // The codec reads HTTP/1.2 to 1.9 as 1.1 (RFC 9110 2.5: the highest
    // minor version it supports); Beast refuses them. Read them alike.
    const size_t eol = wire.find("\r\n", at);
    if (eol != std::string::npos && eol >= at + 8 && wire.compare(eol - 8, 7, "HTTP/1.") == 0 &&
        wire[eol - 1] >= '2' && wire[eol - 1] <= '9')
      wire[eol - 1] = '1';
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
    const auto target = p.get().target();
    r.target = originForm(std::string_view(target.data(), target.size()));
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

// Says what the two readings were before failing: the triage starts there.
[[noreturn]] void disagree(size_t index, const Request& ours, const Request* theirs) {
  auto show = [](const char* who, const Request& r) {
    std::fprintf(stderr, "  %s: %s %s, %zu body bytes%s\n", who, r.method.c_str(), r.target.c_str(), r.body.size(),
                 r.complete ? ", complete" : "");
  };
  std::fprintf(stderr, "http1_smuggling: request %zu read two ways\n", index);
  show("codec ", ours);
  if (theirs != nullptr) show("reader", *theirs);
  else std::fprintf(stderr, "  reader: no such request\n");
  std::abort();
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
    const Request* theirs = i < reader.size() ? &reader[i] : nullptr;
    const bool agree =
        theirs != nullptr && ours.method == theirs->method && ours.target == theirs->target &&
        theirs->body.compare(0, ours.body.size(), ours.body) == 0 && ours.body.size() <= theirs->body.size() &&
        (!ours.complete || (theirs->complete && ours.body == theirs->body));
    if (!agree) disagree(i, ours, theirs);
  }
  return 0;
}
