#pragma once
#include "proxy/net/filter.h"
#include "filters/legacy.h"

namespace sluice::filters::tcp_proxy {

const legacy::NetworkFactory& factory();

}  // namespace sluice::filters::tcp_proxy
