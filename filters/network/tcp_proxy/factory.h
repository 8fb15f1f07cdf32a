#pragma once
#include "proxy/network/filter.h"

namespace sluice::filters::tcp_proxy {

const network::NetworkFilterFactory& factory();

}  // namespace sluice::filters::tcp_proxy
