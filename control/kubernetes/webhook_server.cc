#include "control/kubernetes/webhook_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "control/control_log.h"
#include "control/listen_address.h"

namespace sluice::control::kubernetes {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A client gets this long for its handshake, and for each request head and
// body; an idle keep-alive connection is closed after it too.
constexpr std::chrono::seconds kRequestTimeout{10};
constexpr std::chrono::seconds kRetryRenewal{30};

std::shared_ptr<ssl::context> makeContext(const ServingCertificate& cert, std::string& error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                   ec);
  if (!ec) ctx->use_certificate_chain(asio::buffer(cert.chain_pem), ec);
  if (!ec) ctx->use_private_key(asio::buffer(cert.key_pem), ssl::context::pem, ec);
  if (ec) {
    error = "serving certificate: " + ec.message();
    return nullptr;
  }
  return ctx;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ssl::context> ctx, const WebhookHandler& handler)
      : ctx_(std::move(ctx)), stream_(std::move(socket), *ctx_), handler_(handler) {}

  void start() {
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        log::debug(std::string("webhook: TLS handshake failed: ") + ec.message());
        self->close();
        return;
      }
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxReviewBytes);
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->onRead(ec);
    });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      respond({413, "text/plain; charset=utf-8", "request larger than 8 MiB\n"}, /*keep_alive=*/false, 11);
      return;
    }
    if (ec) {
      close();
      return;
    }
    const auto& req = parser_->get();
    WebhookReply r = handler_(std::string_view(req.method_string().data(), req.method_string().size()),
                              std::string_view(req.target().data(), req.target().size()), req.body());
    respond(std::move(r), req.keep_alive(), req.version());
  }

  void respond(WebhookReply r, bool keep_alive, unsigned version) {
    response_ = {};
    response_.version(version);
    response_.result(static_cast<http::status>(r.status));
    response_.set(http::field::server, "sluice-control");
    response_.set(http::field::content_type, r.content_type);
    response_.keep_alive(keep_alive);
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

  std::shared_ptr<ssl::context> ctx_;  // the certificate this connection was accepted with
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const WebhookHandler& handler_;
};

}  // namespace

struct WebhookServer::Impl {
  std::string address;
  WebhookHandler handler;
  CertificateProvider certificates;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer renewal{io};
  std::thread thread;
  int port = 0;
  std::shared_ptr<ssl::context> ctx;  // the webhook thread's, after start()
  std::vector<std::weak_ptr<Session>> sessions;

  void accept() {
    acceptor.async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        auto session = std::make_shared<Session>(std::move(socket), ctx, handler);
        std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
        sessions.push_back(session);
        session->start();
      }
      accept();
    });
  }

  void scheduleRenewal(ca::SysTime at) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(at - std::chrono::system_clock::now());
    // Asked again at least hourly, so a wall-clock jump cannot stretch the wait.
    wait = std::clamp<std::chrono::milliseconds>(wait, std::chrono::seconds(1), std::chrono::hours(1));
    renewal.expires_after(wait);
    renewal.async_wait([this, at](beast::error_code ec) {
      if (ec) return;
      if (std::chrono::system_clock::now() < at) {
        scheduleRenewal(at);
        return;
      }
      renew();
    });
  }

  void renew() {
    ServingCertificate cert;
    std::string error;
    std::shared_ptr<ssl::context> next;
    if (certificates(cert, error)) next = makeContext(cert, error);
    if (!next) {
      log::error("webhook: cannot renew the serving certificate (the current one serves on): " + error);
      scheduleRenewal(std::chrono::system_clock::now() + kRetryRenewal);
      return;
    }
    ctx = std::move(next);
    scheduleRenewal(cert.refresh_at);
  }
};

WebhookServer::WebhookServer(std::string address, WebhookHandler handler, CertificateProvider certificates)
    : impl_(std::make_unique<Impl>()) {
  impl_->address = std::move(address);
  impl_->handler = std::move(handler);
  impl_->certificates = std::move(certificates);
}

WebhookServer::~WebhookServer() { stop(); }

bool WebhookServer::start(std::string& error) {
  ServingCertificate cert;
  if (!impl_->certificates(cert, error)) return false;
  impl_->ctx = makeContext(cert, error);
  if (!impl_->ctx) return false;
  if (!listenOn(impl_->acceptor, impl_->address, "webhook", error)) return false;
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->scheduleRenewal(cert.refresh_at);
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return true;
}

int WebhookServer::port() const { return impl_->port; }

void WebhookServer::refreshNow() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    if (impl_->acceptor.is_open()) impl_->renew();
  });
}

void WebhookServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->renewal.cancel();
    for (const auto& w : impl_->sessions)
      if (auto s = w.lock()) s->close();
    impl_->sessions.clear();
    impl_->io.stop();
  });
  impl_->thread.join();
}

}  // namespace sluice::control::kubernetes
