#include "control/kubernetes/api_client.h"

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>


namespace sluice::control::kubernetes {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Detaches the socket from the canceller before the socket closes, so a
// cancel never shuts down a descriptor number reused by another.
struct Attached {
  RequestCanceller& c;
  Attached(RequestCanceller& canceller, int fd) : c(canceller) { c.attach(fd); }
  ~Attached() { c.attach(-1); }
};

std::string bearerToken(const ApiAccess& access, std::string& error) {
  if (!access.token_file.empty()) {
    auto token = readWholeFile(access.token_file, error);
    if (!token) return {};
    while (!token->empty() && (token->back() == '\n' || token->back() == '\r' || token->back() == ' '))
      token->pop_back();
    return *token;
  }
  return access.token;
}

// Connects to the first of `endpoints` that answers, giving up at `timeout`
// or when the request is cancelled (a blocking connect could not be ended
// by either). "" when connected.
std::string connectWithin(asio::io_context& ioc, tcp::socket& socket, const tcp::resolver::results_type& endpoints,
                          RequestCanceller& canceller, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  // Polled this often for a cancel from another thread.
  constexpr std::chrono::milliseconds kCancelCheck{50};
  std::optional<beast::error_code> result;
  asio::async_connect(socket, endpoints, [&result](beast::error_code ec, const tcp::endpoint&) { result = ec; });
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string why;
  while (!result) {
    const Clock::time_point now = Clock::now();
    if (canceller.cancelled()) {
      why = "cancelled";
    } else if (now >= deadline) {
      why = "no answer within " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) + " ms";
    }
    if (!why.empty()) {
      beast::error_code ignored;
      socket.close(ignored);  // the pending connect completes, aborted
      ioc.restart();
      ioc.run();
      return why;
    }
    ioc.restart();
    ioc.run_for(std::min<Clock::duration>(deadline - now, kCancelCheck));
  }
  return *result ? result->message() : std::string();
}

template <class Stream>
std::string exchange(Stream& stream, const ApiAccess& access, const ApiCall& call, const std::string& token,
                     RequestCanceller& canceller, const ApiRequestCallbacks& cb) {
  http::request<http::string_body> req{call.body.empty() ? http::verb::get : http::verb::post, call.target, 11};
  req.set(http::field::host, hostPort(access.url));
  req.set(http::field::accept, "application/json");
  req.set(http::field::user_agent, "sluice-control/" SLUICE_VERSION);
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!call.body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = call.body;
    req.prepare_payload();
  }
  beast::error_code ec;
  http::write(stream, req, ec);
  if (ec) return "write: " + ec.message();
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  // A watch's body never ends. Not boost::none: Boost 1.74 compares the
  // length of a Content-Length body against an empty optional as "over".
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  canceller.setDeadline(RequestCanceller::Clock::now() + cb.read_timeout);
  http::read_header(stream, buffer, parser, ec);
  if (ec) return "read: " + ec.message();
  if (cb.on_status) cb.on_status(parser.get().result_int());
  char chunk[16384];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    canceller.setDeadline(RequestCanceller::Clock::now() + cb.read_timeout);
    // read_some: hand on what arrived, not wait for a full buffer.
    http::read_some(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    const size_t got = sizeof(chunk) - parser.get().body().size;
    if (got > 0 && cb.on_body && !cb.on_body(std::string_view(chunk, got))) return {};
    if (ec) return canceller.cancelled() ? "cancelled" : "read: " + ec.message();
  }
  return {};
}

}  // namespace

std::string apiGet(const ApiAccess& access, const std::string& target, RequestCanceller& canceller,
                   const ApiRequestCallbacks& callbacks) {
  return apiCall(access, ApiCall{target, {}}, canceller, callbacks);
}

std::string apiCall(const ApiAccess& access, const ApiCall& call, RequestCanceller& canceller,
                    const ApiRequestCallbacks& callbacks) {
  if (canceller.cancelled()) return "cancelled";
  std::string error;
  const std::string token = bearerToken(access, error);
  if (!error.empty()) return "token: " + error;
  asio::io_context ioc;
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(access.url.host, access.url.port, ec);
  const std::string where = hostPort(access.url);
  if (ec) return "resolve " + where + ": " + ec.message();
  tcp::socket socket(ioc);
  if (std::string e = connectWithin(ioc, socket, endpoints, canceller, callbacks.connect_timeout); !e.empty())
    return "connect " + where + ": " + e;
  Attached attached(canceller, socket.native_handle());
  if (!access.url.tls) return exchange(socket, access, call, token, canceller, callbacks);

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (access.ca_pem.empty())
    ctx.set_default_verify_paths(ec);
  else
    ctx.add_certificate_authority(asio::buffer(access.ca_pem), ec);
  if (ec) return "CA: " + ec.message();
  if (!access.client_cert_pem.empty()) {
    ctx.use_certificate_chain(asio::buffer(access.client_cert_pem), ec);
    if (!ec) ctx.use_private_key(asio::buffer(access.client_key_pem), asio::ssl::context::pem, ec);
    if (ec) return "client certificate: " + ec.message();
  }
  asio::ssl::stream<tcp::socket&> tls(socket, ctx);
  if (!access.insecure_skip_verify) {
    tls.set_verify_mode(asio::ssl::verify_peer);
    tls.set_verify_callback(asio::ssl::host_name_verification(access.url.host));
  }
  // SNI names a host, never an address (RFC 6066 3): an API server called
  // by its IP (in cluster, KUBERNETES_SERVICE_HOST) is sent none.
  boost::system::error_code not_ip;
  asio::ip::make_address(access.url.host, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(tls.native_handle(), access.url.host.c_str());
  tls.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return "TLS handshake with " + where + ": " + ec.message();
  return exchange(tls, access, call, token, canceller, callbacks);
}

}  // namespace sluice::control::kubernetes
