// sluice-demo-backend: a tiny HTTP/1.1 origin for the demo, the integration
// tests and the benchmarks. Standalone on purpose (no project libraries): it
// is the thing on the other side of the proxy, so it must not share bugs with it.
//
//   sluice-demo-backend --listen 127.0.0.1:18081 --name b1
//
// Every request gets `200 OK`, `Content-Type: text/plain`, `x-backend: NAME`
// and the body "hello from NAME\n". Keep-alive and pipelining are supported;
// request bodies (Content-Length) are read and discarded. Anything it cannot
// parse gets a 400 and the connection is closed. `--listen HOST:0` binds an
// ephemeral port; the bound address is always printed on stdout as
// "listening on HOST:PORT" once the socket accepts. SIGTERM/SIGINT exit 0.
//
// One thread, one edge-triggered epoll loop; every fd is registered once.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
// Stop reading a connection while this much response is unsent (a client
// that pipelines without reading must not grow our memory without bound).
constexpr size_t kMaxPendingOutput = 1024 * 1024;
constexpr size_t kReadChunk = 64 * 1024;

struct Conn {
  int fd = -1;
  std::string in;         // unparsed request bytes
  std::string out;        // unsent response bytes
  size_t out_off = 0;     // first unsent byte of `out`
  uint64_t body_left = 0; // request body bytes still to discard
  bool close_after_write = false;
  bool peer_closed = false;
  bool closed = false;    // fd closed; object freed at the end of the loop turn
};

struct Backend {
  std::string name;
  std::string response_keepalive;
  std::string response_close;
  std::string head_keepalive;  // HEAD: headers only
  std::string head_close;
  int epfd = -1;
  int listen_fd = -1;
  int signal_fd = -1;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns;
  // Closed connections are freed after the current epoll batch, so a later
  // event of the same batch never touches freed memory or a reused fd.
  std::vector<std::unique_ptr<Conn>> dead;
};

// epoll data.ptr tags for the two non-connection fds.
char kListenTag;
char kSignalTag;

void die(const char* what) {
  std::fprintf(stderr, "sluice-demo-backend: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

std::string buildResponse(const std::string& name, bool keep_alive, bool with_body) {
  std::string body = "hello from " + name + "\n";
  std::string r = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nx-backend: " + name +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  r += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  r += "\r\n";
  if (with_body) r += body;
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool icontainsToken(std::string_view value, std::string_view token) {
  // Comma-separated token list, e.g. "keep-alive, Upgrade".
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view t = value.substr(pos, comma - pos);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (iequals(t, token)) return true;
    pos = comma + 1;
  }
  return false;
}

bool isTokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

struct Request {
  bool head = false;
  bool keep_alive = true;
  uint64_t content_length = 0;
};

// Parses one request head (without the final CRLFCRLF). nullopt = garbage.
std::optional<Request> parseHead(std::string_view head) {
  Request req;
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);

  // Request line: METHOD SP TARGET SP HTTP/1.x
  size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return std::nullopt;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return std::nullopt;
  std::string_view method = line.substr(0, sp1);
  std::string_view version = line.substr(sp2 + 1);
  for (char c : method)
    if (!isTokenChar(c)) return std::nullopt;
  if (version == "HTTP/1.1") {
    req.keep_alive = true;
  } else if (version == "HTTP/1.0") {
    req.keep_alive = false;
  } else {
    return std::nullopt;
  }
  req.head = method == "HEAD";

  bool have_length = false;
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view h = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    size_t colon = h.find(':');
    if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
    std::string_view name = h.substr(0, colon);
    for (char c : name)
      if (!isTokenChar(c)) return std::nullopt;
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);

    if (iequals(name, "content-length")) {
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || p != value.data() + value.size() || value.empty()) return std::nullopt;
      if (have_length && n != req.content_length) return std::nullopt;  // conflicting lengths
      have_length = true;
      req.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      // Chunked bodies are not needed by any client of this tool; refusing
      // them is safer than guessing where the next request starts.
      return std::nullopt;
    } else if (iequals(name, "connection")) {
      if (icontainsToken(value, "close")) req.keep_alive = false;
      else if (icontainsToken(value, "keep-alive")) req.keep_alive = true;
    }
  }
  return req;
}

void closeConn(Backend& b, Conn& c) {
  if (c.closed) return;
  c.closed = true;
  close(c.fd);  // also removes it from the epoll set
  auto it = b.conns.find(&c);
  b.dead.push_back(std::move(it->second));
  b.conns.erase(it);
}

// Close after a final response: half-close first and discard what the peer
// already sent, so the kernel does not answer unread data with a RST that
// could destroy the response in flight.
void closeGracefully(Backend& b, Conn& c) {
  shutdown(c.fd, SHUT_WR);
  char buf[4096];
  while (recv(c.fd, buf, sizeof buf, 0) > 0) {
  }
  closeConn(b, c);
}

// Writes as much pending output as the socket takes. false = connection dead.
bool flush(Conn& c) {
  while (c.out_off < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else {
      return false;
    }
  }
  c.out.clear();
  c.out_off = 0;
  return true;
}

// Consumes complete requests from c.in, appending responses. false = garbage
// (a 400 has been queued and the connection closes after it is written).
bool process(Backend& b, Conn& c) {
  size_t pos = 0;
  while (!c.close_after_write && c.out.size() - c.out_off < kMaxPendingOutput) {
    if (c.body_left > 0) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(c.body_left, c.in.size() - pos));
      pos += take;
      c.body_left -= take;
      if (c.body_left > 0) break;
    }
    // Tolerate stray CRLFs between requests (RFC 9112 2.2).
    while (pos + 1 < c.in.size() && c.in[pos] == '\r' && c.in[pos + 1] == '\n') pos += 2;
    size_t end = c.in.find("\r\n\r\n", pos);
    if (end == std::string::npos) {
      if (c.in.size() - pos > kMaxHeaderBytes) {
        c.out += "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        c.close_after_write = true;
        c.in.clear();
        return false;
      }
      break;
    }
    auto req = parseHead(std::string_view(c.in).substr(pos, end - pos));
    if (!req) {
      c.out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      c.close_after_write = true;
      c.in.clear();
      return false;
    }
    pos = end + 4;
    c.body_left = req->content_length;
    if (req->head) c.out += req->keep_alive ? b.head_keepalive : b.head_close;
    else c.out += req->keep_alive ? b.response_keepalive : b.response_close;
    if (!req->keep_alive) c.close_after_write = true;
  }
  c.in.erase(0, pos);
  if (c.close_after_write) c.in.clear();
  return true;
}

// Runs after any readiness on a connection: read (unless paused by pending
// output), parse, write. Edge-triggered, so each step goes to EAGAIN.
void service(Backend& b, Conn& c) {
  char buf[kReadChunk];
  for (;;) {
    if (!flush(c)) return closeConn(b, c);
    bool paused = c.out.size() - c.out_off >= kMaxPendingOutput;
    if (c.close_after_write || paused) break;
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      // Discard body bytes without copying them into `in` first.
      size_t off = 0;
      if (c.body_left > 0 && c.in.empty()) {
        off = static_cast<size_t>(std::min<uint64_t>(c.body_left, static_cast<uint64_t>(n)));
        c.body_left -= off;
      }
      c.in.append(buf + off, static_cast<size_t>(n) - off);
      process(b, c);
      continue;
    }
    if (n == 0) {
      c.peer_closed = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return closeConn(b, c);
  }
  // Pipelined requests left in `in` because output was full: parse them now
  // that some output drained (no new EPOLLIN edge will arrive for them).
  if (!c.close_after_write && !c.in.empty() && c.out.size() - c.out_off < kMaxPendingOutput) {
    process(b, c);
    if (!flush(c)) return closeConn(b, c);
  }
  bool drained = c.out_off >= c.out.size();
  if (drained && c.close_after_write) return closeGracefully(b, c);
  if (drained && c.peer_closed) return closeConn(b, c);
}

void acceptAll(Backend& b) {
  for (;;) {
    int fd = accept4(b.listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE) {
        std::fprintf(stderr, "sluice-demo-backend: accept: %s\n", std::strerror(errno));
        return;
      }
      die("accept4");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c.get();
    if (epoll_ctl(b.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
      close(fd);
      continue;
    }
    Conn* key = c.get();
    b.conns.emplace(key, std::move(c));
  }
}

bool parseListen(const std::string& spec, sockaddr_storage& ss, socklen_t& len) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = spec.substr(0, colon);
  std::string port_s = spec.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
  if (ec != std::errc{} || p != port_s.data() + port_s.size() || port_s.empty() || port > 65535)
    return false;
  std::memset(&ss, 0, sizeof ss);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6->sin6_addr) != 1) return false;
    len = sizeof *a6;
    return true;
  }
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  a4->sin_family = AF_INET;
  a4->sin_port = htons(static_cast<uint16_t>(port));
  if (host.empty()) host = "0.0.0.0";
  if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) return false;
  len = sizeof *a4;
  return true;
}

std::string describe(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    auto* a6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a6->sin6_port));
  }
  auto* a4 = reinterpret_cast<const sockaddr_in*>(&ss);
  inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a4->sin_port));
}

[[noreturn]] void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: sluice-demo-backend --listen HOST:PORT [--name NAME]\n"
               "  Answers every HTTP/1.1 request with 200 \"hello from NAME\\n\" and\n"
               "  header x-backend: NAME. PORT 0 binds an ephemeral port; the bound\n"
               "  address is printed as \"listening on HOST:PORT\". SIGTERM/SIGINT exit 0.\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen_spec;
  std::string name = "backend";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if ((a == "--listen" || a == "-l") && i + 1 < argc) listen_spec = argv[++i];
    else if ((a == "--name" || a == "-n") && i + 1 < argc) name = argv[++i];
    else if (a.starts_with("--listen=")) listen_spec = std::string(a.substr(9));
    else if (a.starts_with("--name=")) name = std::string(a.substr(7));
    else if (a == "-h" || a == "--help") usage(0);
    else usage(2);
  }
  if (listen_spec.empty()) usage(2);
  for (char c : name) {
    if (c == '\r' || c == '\n' || static_cast<unsigned char>(c) < 0x20) {
      std::fprintf(stderr, "sluice-demo-backend: --name must be printable\n");
      return 2;
    }
  }

  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!parseListen(listen_spec, ss, len)) {
    std::fprintf(stderr, "sluice-demo-backend: bad --listen '%s' (want HOST:PORT)\n", listen_spec.c_str());
    return 2;
  }

  Backend b;
  b.name = name;
  b.response_keepalive = buildResponse(name, true, true);
  b.response_close = buildResponse(name, false, true);
  b.head_keepalive = buildResponse(name, true, false);
  b.head_close = buildResponse(name, false, false);

  // Signals arrive through the loop, so shutdown is an ordinary event.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) die("sigprocmask");
  signal(SIGPIPE, SIG_IGN);
  b.signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (b.signal_fd < 0) die("signalfd");

  b.listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (b.listen_fd < 0) die("socket");
  int one = 1;
  setsockopt(b.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(b.listen_fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    std::fprintf(stderr, "sluice-demo-backend: bind %s: %s\n", listen_spec.c_str(), std::strerror(errno));
    return 1;
  }
  if (listen(b.listen_fd, 4096) < 0) die("listen");
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (getsockname(b.listen_fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) < 0) die("getsockname");

  b.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (b.epfd < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = &kListenTag;
  if (epoll_ctl(b.epfd, EPOLL_CTL_ADD, b.listen_fd, &ev) < 0) die("epoll_ctl listen");
  ev.events = EPOLLIN;
  ev.data.ptr = &kSignalTag;
  if (epoll_ctl(b.epfd, EPOLL_CTL_ADD, b.signal_fd, &ev) < 0) die("epoll_ctl signalfd");

  std::printf("listening on %s\n", describe(bound).c_str());
  std::fflush(stdout);

  epoll_event events[256];
  for (;;) {
    int n = epoll_wait(b.epfd, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &kSignalTag) {
        for (auto& [c, owned] : b.conns) close(c->fd);
        return 0;
      }
      if (tag == &kListenTag) {
        acceptAll(b);
        continue;
      }
      Conn& c = *static_cast<Conn*>(tag);
      if (c.closed) continue;  // closed earlier in this batch
      if (events[i].events & EPOLLERR) {
        closeConn(b, c);
        continue;
      }
      if (events[i].events & (EPOLLRDHUP | EPOLLHUP)) c.peer_closed = true;
      service(b, c);
    }
    b.dead.clear();
  }
}
