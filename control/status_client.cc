#include "control/status_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "ip/address.h"

namespace sluice::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

AdminReply adminGet(const std::string& address, const std::string& path, std::chrono::milliseconds timeout) {
  AdminReply reply;
  std::string why;
  const auto addr = ip::Address::parse(address, &why);
  if (!addr) {
    reply.error = "bad address '" + address + "': " + why;
    return reply;
  }
  beast::error_code ec;
  const auto host = asio::ip::make_address(addr->ip(), ec);
  if (ec) {
    reply.error = "bad address '" + address + "': " + ec.message();
    return reply;
  }
  // Asynchronous operations on one thread, so that one expiry bounds the
  // connect, the write and the read together.
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, address);
  req.set(http::field::user_agent, "sluice-control");
  req.set(http::field::connection, "close");
  http::response<http::string_body> res;
  stream.expires_after(timeout);
  stream.async_connect(tcp::endpoint(host, addr->port()), [&](beast::error_code e) {
    if (e) {
      ec = e;
      return;
    }
    http::async_write(stream, req, [&](beast::error_code e, size_t) {
      if (e) {
        ec = e;
        return;
      }
      http::async_read(stream, buffer, res, [&](beast::error_code e, size_t) { ec = e; });
    });
  });
  io.run();
  if (ec) {
    reply.error = ec == beast::error::timeout ? "timed out" : ec.message();
    return reply;
  }
  reply.status = res.result_int();
  reply.body = std::move(res.body());
  return reply;
}

}  // namespace sluice::control
