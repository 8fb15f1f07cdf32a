#include "tests/integration/support/http_upstream.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace sluice::itest {

using namespace std::chrono_literals;

namespace {

constexpr size_t kMaxHead = 1 << 20;

// Counts what a WireReader pulled off the socket into the server's total.
struct ReadCounter {
  WireReader& reader;
  std::atomic<uint64_t>& total;
  uint64_t seen = 0;
  void update() {
    uint64_t now = reader.bytesRead();
    total.fetch_add(now - seen);
    seen = now;
  }
};

bool parseRequestHead(const std::string& head, UpstreamRequest& req) {
  size_t eol = head.find("\r\n");
  std::string_view line(head.data(), eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(line.substr(sp2 + 1));
  return parseHeaderLines(std::string_view(head).substr(eol + 2), req.headers);
}

bool hasToken(const std::optional<std::string>& value, std::string_view token) {
  if (!value) return false;
  std::string v = *value;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    std::string_view t(v.data() + pos, (comma == std::string::npos ? v.size() : comma) - pos);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (equalsIgnoreCase(t, token)) return true;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

std::string statusLine(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reasonPhrase(status)) + "\r\n";
}

}  // namespace

std::string UpstreamRequest::describe() const {
  return method + " " + target + " " + version + " " + describeHeaders(headers) + " body " +
         std::to_string(body_bytes) + " bytes" + (body_complete ? "" : " (incomplete)");
}

bool UpstreamExchange::send(std::string_view bytes) { return sendAll(conn_.fd(), bytes, Deadline(60s)); }

bool UpstreamExchange::respond(int status, std::string_view body, const HeaderList& headers) {
  std::string out = statusLine(status);
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  if (request_.method != "HEAD") out.append(body);
  return send(out);
}

std::string UpstreamExchange::takePending() {
  std::string out;
  out.swap(reader_.pending());
  return out;
}

HttpUpstream::HttpUpstream(Handler handler, UpstreamOptions options)
    : handler_(std::move(handler)), options_(options), server_([this](Conn& c) { serve(c); }) {}

HttpUpstream::~HttpUpstream() { server_.stop(); }

std::vector<UpstreamRequest> HttpUpstream::requests() const {
  std::lock_guard lk(mu_);
  return requests_;
}

size_t HttpUpstream::requestCount() const {
  std::lock_guard lk(mu_);
  return requests_.size();
}

std::optional<UpstreamRequest> HttpUpstream::lastRequest() const {
  std::lock_guard lk(mu_);
  if (requests_.empty()) return std::nullopt;
  return requests_.back();
}

bool HttpUpstream::waitForRequests(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return requests_.size() >= n; });
}

void HttpUpstream::serve(Conn& conn) {
  const int conn_index = ++next_conn_;
  struct Finished {
    std::atomic<int>& n;
    ~Finished() { ++n; }
  } finished{finished_};
  WireReader reader(conn.fd());
  ReadCounter counter{reader, bytes_received_};
  for (int index = 0;; ++index) {
    auto head = reader.readUntil("\r\n\r\n", Deadline(options_.idle_limit), kMaxHead);
    counter.update();
    if (!head) return;  // EOF, error, or junk: nothing more to serve
    UpstreamRequest req;
    req.connection = conn_index;
    req.index_on_connection = index;
    if (!parseRequestHead(*head, req)) {
      sendAll(conn.fd(), "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
              Deadline(5s));
      return;
    }
    if (hasToken(req.header("expect"), "100-continue")) {
      sendAll(conn.fd(), "HTTP/1.1 100 Continue\r\n\r\n", Deadline(5s));
    }
    const bool chunked = hasToken(req.header("transfer-encoding"), "chunked");
    const auto content_length = req.header("content-length");
    if (options_.slow_body_read.count() > 0 && (chunked || content_length)) {
      // Read the first part slowly: 64 KiB every 5 ms, then at full speed below.
      // Only meant for big bodies: it stops at 4 MiB buffered or a whole small body.
      auto until = Clock::now() + options_.slow_body_read;
      const uint64_t cap = content_length ? std::min<uint64_t>(4u << 20, std::strtoull(content_length->c_str(), nullptr, 10))
                                          : (4u << 20);
      while (Clock::now() < until && reader.pending().size() < cap && !reader.eof()) {
        if (reader.fill(Deadline(5s), 64 * 1024) <= 0) break;
        counter.update();
        std::this_thread::sleep_for(5ms);
      }
    }
    // The body: chunked, Content-Length, or none (a request without either has none).
    BodyResult body;
    Deadline body_deadline(120s);
    if (chunked) {
      req.chunked = true;
      body = readChunkedBody(reader, body_deadline, options_.keep_body_bytes);
    } else if (content_length) {
      body = readLengthBody(reader, std::strtoull(content_length->c_str(), nullptr, 10), body_deadline,
                            options_.keep_body_bytes);
    } else {
      body.complete = true;
      body.checksum = Checksum().value();
    }
    counter.update();
    req.body_bytes = body.bytes;
    req.body_checksum = body.checksum;
    req.body = std::move(body.kept);
    req.trailers = std::move(body.trailers);
    req.body_complete = body.complete;
    {
      std::lock_guard lk(mu_);
      requests_.push_back(req);
    }
    cv_.notify_all();
    if (!body.complete) return;

    UpstreamExchange ex(conn, reader, req);
    handler_(req, ex);
    counter.update();
    if (ex.end_ == UpstreamExchange::End::kClose) {
      conn.close();
      return;
    }
    if (ex.end_ == UpstreamExchange::End::kReset) {
      conn.reset();
      return;
    }
    if (hasToken(req.header("connection"), "close")) {
      conn.close();
      return;
    }
  }
}

// ---- Handlers ----

HttpUpstream::Handler describeRequest(std::string name, HeaderList headers) {
  return [name, headers](const UpstreamRequest& req, UpstreamExchange& ex) {
    HeaderList h = headers;
    h.emplace_back("x-upstream", name);
    ex.respond(200, name + " " + req.method + " " + req.target + "\n", h);
  };
}

HttpUpstream::Handler respondWith(int status, std::string body, HeaderList headers) {
  return [status, body, headers](const UpstreamRequest&, UpstreamExchange& ex) { ex.respond(status, body, headers); };
}

HttpUpstream::Handler echoBody() {
  return [](const UpstreamRequest& req, UpstreamExchange& ex) {
    HeaderList h = {{"x-body-bytes", std::to_string(req.body_bytes)},
                    {"x-body-checksum", std::to_string(req.body_checksum)}};
    ex.respond(200, req.body, h);
  };
}

HttpUpstream::Handler chunkedWithTrailers(std::vector<std::string> chunks, HeaderList trailers) {
  return [chunks, trailers](const UpstreamRequest&, UpstreamExchange& ex) {
    std::string trailer_names;
    for (const auto& [k, v] : trailers) trailer_names += (trailer_names.empty() ? "" : ", ") + k;
    std::string out = statusLine(200) + "Transfer-Encoding: chunked\r\n";
    if (!trailer_names.empty()) out += "Trailer: " + trailer_names + "\r\n";
    out += "\r\n";
    if (!ex.send(out)) return;
    // Each chunk in its own write, so the proxy sees them arrive separately.
    for (const auto& c : chunks) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", c.size());
      if (!ex.send(std::string(size) + c + "\r\n")) return;
      std::this_thread::sleep_for(2ms);
    }
    std::string last = "0\r\n";
    for (const auto& [k, v] : trailers) last += k + ": " + v + "\r\n";
    ex.send(last + "\r\n");
  };
}

HttpUpstream::Handler slowResponse(std::chrono::milliseconds delay, std::string body) {
  return [delay, body](const UpstreamRequest&, UpstreamExchange& ex) {
    std::this_thread::sleep_for(delay);
    ex.respond(200, body);
  };
}

HttpUpstream::Handler trickleResponse(std::chrono::milliseconds interval, std::string body, bool head_at_once,
                                      size_t max_bytes) {
  return [interval, body, head_at_once, max_bytes](const UpstreamRequest&, UpstreamExchange& ex) {
    const std::string head = statusLine(200) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    size_t from = 0;
    if (head_at_once) {
      if (!ex.send(head)) return;
      from = head.size();
    }
    const std::string all = head + body;
    for (size_t i = from; i < all.size() && i - from < max_bytes; ++i) {
      std::this_thread::sleep_for(interval);
      if (!ex.send(std::string_view(&all[i], 1))) return;
    }
    ex.close();
  };
}

HttpUpstream::Handler hugeResponse(uint64_t seed, uint64_t length) {
  return [seed, length](const UpstreamRequest& req, UpstreamExchange& ex) {
    if (!ex.send(statusLine(200) + "Content-Length: " + std::to_string(length) + "\r\n\r\n")) return;
    if (req.method == "HEAD") return;
    PatternGen gen(seed);
    std::vector<char> buf(1 << 20);
    uint64_t left = length;
    while (left > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
      gen.fill(buf.data(), n);
      if (!sendAll(ex.fd(), buf.data(), n, Deadline(60s))) {
        ex.close();
        return;
      }
      left -= n;
    }
  };
}

HttpUpstream::Handler closeMidResponse(uint64_t declared, uint64_t sent, bool reset) {
  return [declared, sent, reset](const UpstreamRequest&, UpstreamExchange& ex) {
    std::string out = statusLine(200) + "Content-Length: " + std::to_string(declared) + "\r\n\r\n";
    out += std::string(sent, 'x');
    ex.send(out);
    // Let the bytes leave before the close, so the proxy sees a response start.
    std::this_thread::sleep_for(50ms);
    if (reset) {
      ex.reset();
    } else {
      ex.close();
    }
  };
}

HttpUpstream::Handler closeWithoutResponse() {
  return [](const UpstreamRequest&, UpstreamExchange& ex) { ex.close(); };
}

HttpUpstream::Handler garbageResponse(std::string garbage) {
  return [garbage](const UpstreamRequest&, UpstreamExchange& ex) {
    ex.send(garbage);
    std::this_thread::sleep_for(50ms);
    ex.close();
  };
}

HttpUpstream::Handler connectionClose(std::string body) {
  return [body](const UpstreamRequest&, UpstreamExchange& ex) {
    ex.respond(200, body, {{"Connection", "close"}});
    ex.close();
  };
}

HttpUpstream::Handler respondThenClose(std::string body, std::chrono::milliseconds delay) {
  return [body, delay](const UpstreamRequest&, UpstreamExchange& ex) {
    ex.respond(200, body);
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    ex.close();
  };
}

HttpUpstream::Handler neverAnswer() {
  return [](const UpstreamRequest&, UpstreamExchange& ex) {
    // Drain until the proxy gives up on us (or 30 s pass); answer nothing.
    readUntilClosed(ex.fd(), Deadline(30s), 0);
    ex.close();
  };
}

HttpUpstream::Handler websocketEcho() {
  return [](const UpstreamRequest& req, UpstreamExchange& ex) {
    if (!hasToken(req.header("upgrade"), "websocket") || !hasToken(req.header("connection"), "upgrade")) {
      ex.respond(400, "not an upgrade\n", {{"Connection", "close"}});
      ex.close();
      return;
    }
    // Sec-WebSocket-Accept is not computed: the test client does not check it.
    if (!ex.send(statusLine(101) + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")) {
      return;
    }
    std::string early = ex.takePending();
    if (!early.empty() && !ex.send(early)) return;
    char buf[64 * 1024];
    for (;;) {
      int err = 0;
      ssize_t n = recvSome(ex.fd(), buf, sizeof buf, Deadline(30s), &err);
      if (n <= 0) break;
      if (std::string_view(buf, static_cast<size_t>(n)) == "__close__") break;
      if (!sendAll(ex.fd(), buf, static_cast<size_t>(n), Deadline(30s))) break;
    }
    ex.close();
  };
}

HttpUpstream::Handler byPathPrefix(std::vector<std::pair<std::string, HttpUpstream::Handler>> routes,
                                   HttpUpstream::Handler fallback) {
  return [routes, fallback](const UpstreamRequest& req, UpstreamExchange& ex) {
    const HttpUpstream::Handler* best = &fallback;
    size_t best_len = 0;
    for (const auto& [prefix, h] : routes) {
      if (req.target.rfind(prefix, 0) == 0 && prefix.size() >= best_len) {
        best = &h;
        best_len = prefix.size();
      }
    }
    (*best)(req, ex);
  };
}

}  // namespace sluice::itest
