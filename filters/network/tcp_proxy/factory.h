#pragma once
#include "proxy/net/filter.h"

namespace sluice::filters::tcp_proxy {

const net::NetworkFilterFactory& factory();

}  // namespace sluice::filters::tcp_proxy
