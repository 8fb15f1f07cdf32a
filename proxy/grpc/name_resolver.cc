#include "proxy/grpc/name_resolver.h"

#include <ares.h>
#include <netdb.h>
#include <sys/epoll.h>

#include <map>
#include <mutex>

namespace sluice::grpc {
namespace {

class AresResolution final : public NameResolution {
 public:
  AresResolution(event::Loop& loop, ResolveCallback done) : loop_(loop), done_(std::move(done)) {
    deliver_ = loop_.createTimer([this] { deliver(); });
    timeout_ = loop_.createTimer([this] {
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      armTimeout();
    });
  }

  ~AresResolution() override {
    destroying_ = true;
    for (auto& [fd, s] : sockets_) {
      loop_.removeFd(fd);  // before c-ares closes them
      retire(std::move(s));
    }
    if (channel_) ares_destroy(channel_);  // its callback runs with ARES_EDESTRUCTION: ignored
  }

  void start(const std::string& host, const std::string& port) {
    static std::once_flag init;
    std::call_once(init, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options options{};
    options.sock_state_cb = &onSocketState;
    options.sock_state_cb_data = this;
    // c-ares' defaults (5 s a try, 4 tries, doubling) times a pod's search
    // list would leave a client minutes without a control plane and
    // without a word; a dead DNS server is a failure the caller's backoff
    // should see in seconds.
    options.timeout = 2000;
    options.tries = 2;
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (const int rc = ares_init_options(&channel_, &options, mask); rc != ARES_SUCCESS) {
      channel_ = nullptr;
      return fail("cannot start resolving '" + host + "': " + ares_strerror(rc));
    }
    host_ = host;
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    ares_getaddrinfo(channel_, host.c_str(), port.c_str(), &hints, &onResult, this);
    armTimeout();
  }

 private:
  // One per socket c-ares opens: the loop names no fd in its events.
  // c-ares closes a socket from inside ares_process_fd (the answer is in),
  // and the loop may still hold an event for it from the same epoll_wait:
  // a closed socket's handler is retired (r cleared) and deleted at the end
  // of the turn, never under a callback that may still reach it.
  struct Socket final : event::IoHandler, event::DeferredDeletable {
    AresResolution* r = nullptr;  // null once retired
    int fd = -1;
    void onIoEvent(uint32_t events) override {
      AresResolution* const res = r;  // `this` may be retired below
      if (!res) return;
      const bool in = events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP);
      const bool out = events & EPOLLOUT;
      ares_process_fd(res->channel_, in ? fd : ARES_SOCKET_BAD, out ? fd : ARES_SOCKET_BAD);
      res->armTimeout();
    }
  };

  void retire(std::unique_ptr<Socket> s) {
    s->r = nullptr;
    loop_.deferredDelete(std::move(s));
  }

  // Level-triggered and only for what c-ares waits for: it reads a
  // datagram per call, and asks for writability only while connecting TCP.
  static void onSocketState(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<AresResolution*>(data);
    if (self->destroying_) return;
    auto it = self->sockets_.find(fd);
    if (it != self->sockets_.end()) self->loop_.removeFd(fd);
    if (!readable && !writable) {
      if (it != self->sockets_.end()) {
        self->retire(std::move(it->second));
        self->sockets_.erase(it);
      }
      return;
    }
    if (it == self->sockets_.end()) {
      it = self->sockets_.emplace(fd, std::make_unique<Socket>()).first;
      it->second->r = self;
      it->second->fd = fd;
    }
    self->loop_.addFd(fd, it->second.get(), (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u));
  }

  static void onResult(void* arg, int status, int, ares_addrinfo* result) {
    auto* self = static_cast<AresResolution*>(arg);
    if (status == ARES_EDESTRUCTION || self->destroying_) {
      if (result) ares_freeaddrinfo(result);
      return;
    }
    if (status != ARES_SUCCESS || !result || !result->nodes) {
      if (result) ares_freeaddrinfo(result);
      return self->fail("cannot resolve '" + self->host_ + "': " + ares_strerror(status));
    }
    for (const ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next)
      self->addresses_.push_back(ip::Address::fromSockaddr(n->ai_addr, static_cast<socklen_t>(n->ai_addrlen)));
    ares_freeaddrinfo(result);
    self->deliver_->enable(event::Duration(0));
  }

  void fail(std::string error) {
    error_ = std::move(error);
    deliver_->enable(event::Duration(0));
  }

  void armTimeout() {
    if (!channel_) return;
    timeval tv{};
    if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
      timeout_->disable();
      return;
    }
    // Rounded up: a timer that fires early would only find nothing due.
    timeout_->enable(
        std::chrono::ceil<event::Duration>(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec)));
  }

  void deliver() {
    timeout_->disable();
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(addresses_), error_);  // may destroy this
  }

  event::Loop& loop_;
  ResolveCallback done_;
  ares_channel channel_ = nullptr;
  std::map<int, std::unique_ptr<Socket>> sockets_;
  std::unique_ptr<event::Timer> deliver_;
  std::unique_ptr<event::Timer> timeout_;
  std::string host_;
  std::vector<ip::Address> addresses_;
  std::string error_;
  bool destroying_ = false;
};

}  // namespace

std::pair<std::string, std::string> splitHostPort(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  std::string host = colon == std::string::npos ? host_port : host_port.substr(0, colon);
  std::string port = colon == std::string::npos ? "" : host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {std::move(host), std::move(port)};
}

std::unique_ptr<NameResolution> resolveName(event::Loop& loop, const std::string& host_port, ResolveCallback done) {
  auto r = std::make_unique<AresResolution>(loop, std::move(done));
  const auto [host, port] = splitHostPort(host_port);
  r->start(host, port);
  return r;
}

}  // namespace sluice::grpc
