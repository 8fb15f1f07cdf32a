#pragma once
// Binds and listens an Asio acceptor on "HOST:PORT" (port 0: any free one),
// for the control plane's HTTP servers (admin, injection webhook). False
// with `error` naming `what` ("admin address ...") when the address is bad
// or taken.

#include <string>

#include <boost/asio/ip/tcp.hpp>

namespace sluice::control {

bool listenOn(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, const std::string& what,
              std::string& error);

}  // namespace sluice::control
