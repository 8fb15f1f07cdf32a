#include "proxy/admin/admin_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "proxy/http/status.h"
#include "proxy/net/connection.h"
#include "proxy/net/socket_util.h"

namespace sluice::admin {
namespace beast_http = boost::beast::http;

// One admin connection: parse one request, answer, close.
class AdminServer::Session final : public net::ReadHandler, public net::ConnectionCallbacks,
                                   public event::DeferredDeletable {
 public:
  Session(AdminServer& server, std::unique_ptr<net::Connection> conn) : server_(server), conn_(std::move(conn)) {
    conn_->addCallbacks(this);
    conn_->setReadHandler(this);
    parser_.header_limit(16 * 1024);
    parser_.body_limit(1024 * 1024);
    parser_.eager(true);
  }

  void onRead(net::Buffer& data, bool end_stream) override {
    if (answered_) {
      data.clear();
      return;
    }
    pending_ += data.toString();
    data.clear();
    boost::beast::error_code ec;
    while (!pending_.empty() && !parser_.is_done()) {
      const size_t used = parser_.put(boost::asio::buffer(pending_.data(), pending_.size()), ec);
      pending_.erase(0, used);
      if (ec == beast_http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) break;
    }
    if (ec) {
      respond({ec == beast_http::error::body_limit ? 413 : 400, "text/plain; charset=utf-8", ec.message() + "\n"});
      return;
    }
    if (parser_.is_done()) {
      const auto& req = parser_.get();
      Request r;
      r.method = std::string(req.method_string());
      const std::string target(req.target());
      const auto q = target.find('?');
      r.path = target.substr(0, q);
      if (q != std::string::npos) r.query = target.substr(q + 1);
      r.body = req.body();
      respond(server_.handler_(r));
      return;
    }
    if (end_stream) conn_->close(net::CloseType::NoFlush);
  }

  void onEvent(net::ConnectionEvent event) override {
    if (event == net::ConnectionEvent::Closed) server_.onSessionDone(this);
  }

  net::Connection& connection() { return *conn_; }

 private:
  void respond(const Response& resp) {
    answered_ = true;
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + std::string(sluice::http::reasonPhrase(resp.status)) + "\r\n";
    out += "Content-Type: " + resp.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    out += resp.body;
    net::Buffer b;
    b.add(out);
    conn_->write(b, /*end_stream=*/true);
  }

  AdminServer& server_;
  std::unique_ptr<net::Connection> conn_;
  beast_http::request_parser<beast_http::string_body> parser_;
  std::string pending_;
  bool answered_ = false;
};

AdminServer::AdminServer(event::Loop& loop, const ip::Address& address, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {
  std::string error;
  fd_ = net::listenSocket(address, /*reuse_port=*/false, &error);
  if (fd_ < 0) throw std::runtime_error("admin: " + error);
  bound_ = net::localAddress(fd_);
  loop_.addFd(fd_, this, EPOLLIN | EPOLLET);
  retry_timer_ = loop_.createTimer([this] {
    reserve_.restore();
    acceptAll();
  });
}

AdminServer::~AdminServer() {
  if (fd_ >= 0) {
    loop_.removeFd(fd_);
    ::close(fd_);
  }
  sessions_.clear();  // connections close without raising events
}

void AdminServer::onIoEvent(uint32_t) { acceptAll(); }

void AdminServer::acceptAll() {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // The reserve's slot takes this connection, which is served like any
        // other. Without one, the edge is gone: come back for the queue.
        if (reserve_.release()) continue;
        retry_timer_->enable(event::Duration(50));
      }
      return;
    }
    auto conn = net::Connection::accepted(loop_, fd, ip::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len),
                                          std::make_unique<net::RawTransport>());
    auto s = std::make_unique<Session>(*this, std::move(conn));
    sessions_.emplace(s.get(), std::move(s));
  }
}

void AdminServer::onSessionDone(Session* s) {
  auto it = sessions_.find(s);
  if (it == sessions_.end()) return;
  loop_.deferredDelete(std::move(it->second));
  sessions_.erase(it);
  // Its descriptor is closed by now: take it back as the reserve.
  reserve_.restore();
}

}  // namespace sluice::admin
