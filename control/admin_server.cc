#include "control/admin_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "control/listen_address.h"

namespace sluice::control {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A client gets this long to send each request head and body; an idle
// keep-alive connection is closed after it too.
constexpr std::chrono::seconds kRequestTimeout{10};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const AdminHandler& handler) : stream_(std::move(socket)), handler_(handler) {}

  void read() {
    request_ = {};
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void close();

 private:
  void onRead(beast::error_code ec) {
    if (ec) {
      close();
      return;
    }
    AdminResponse r = handler_(std::string_view(request_.method_string().data(), request_.method_string().size()),
                               std::string_view(request_.target().data(), request_.target().size()));
    response_ = {};
    response_.version(request_.version());
    response_.result(static_cast<http::status>(r.status));
    response_.set(http::field::server, "sluice-control");
    response_.set(http::field::content_type, r.content_type);
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->response_.keep_alive()) {
        self->close();
        return;
      }
      self->read();
    });
  }


  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const AdminHandler& handler_;
};

// Any time on the admin thread; the pending operation ends with an error.
void Session::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

}  // namespace

struct AdminServer::Impl {
  std::string address;
  AdminHandler handler;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  int port = 0;
  // Open connections, for stop(); expired ones are dropped as new ones come.
  std::vector<std::weak_ptr<Session>> sessions;

  void accept() {
    acceptor.async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        auto session = std::make_shared<Session>(std::move(socket), handler);
        std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
        sessions.push_back(session);
        session->read();
      }
      accept();
    });
  }
};

AdminServer::AdminServer(std::string address, AdminHandler handler) : impl_(std::make_unique<Impl>()) {
  impl_->address = std::move(address);
  impl_->handler = std::move(handler);
}

AdminServer::~AdminServer() { stop(); }

bool AdminServer::start(std::string& error) {
  if (!listenOn(impl_->acceptor, impl_->address, "admin", error)) return false;
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return true;
}

int AdminServer::port() const { return impl_->port; }

void AdminServer::stop() {
  if (!impl_->thread.joinable()) return;
  // The acceptor and every connection are closed on the admin thread, where
  // they live, so a client sees its connection end now rather than when
  // this object goes.
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    for (const auto& w : impl_->sessions)
      if (auto s = w.lock()) s->close();
    impl_->sessions.clear();
    impl_->io.stop();
  });
  impl_->thread.join();
}

}  // namespace sluice::control
