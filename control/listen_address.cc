#include "control/listen_address.h"

#include "ip/address.h"

namespace sluice::control {

bool listenOn(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, const std::string& what,
              std::string& error) {
  namespace asio = boost::asio;
  std::string why;
  const auto addr = ip::Address::parse(address, &why);
  if (!addr) {
    error = what + " address '" + address + "': " + why;
    return false;
  }
  boost::system::error_code ec;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(addr->ip(), ec), addr->port());
  if (!ec) acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = what + " address " + address + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace sluice::control
