// The built-in filters' runtime halves, one line each (their readers are in
// filters/readers.cc). Order here is only lookup order.
#include <array>

#include "filters/http/authz/authz.h"
#include "filters/http/fault/fault.h"
#include "filters/http/header_mutation/filter.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/http/ratelimit/ratelimit.h"
#include "filters/http/router/router.h"
#include "filters/legacy.h"
#include "filters/network/authz/network_authz.h"
#include "filters/network/http/filter.h"
#include "filters/network/local_ratelimit/config.h"
#include "filters/network/tcp_proxy/filter.h"

namespace sluice {

const net::NetworkFilterFactory* net::findNetworkFilter(std::string_view name) {
  static const filters::legacy::NetworkAdapter l4_ratelimit(filters::l4_ratelimit::factory());
  static const filters::legacy::NetworkAdapter network_authz(filters::network_authz::factory());
  static const std::array<const NetworkFilterFactory*, 4> kFilters = {&filters::tcp_proxy::factory(), &filters::http_cm::factory(),
                                                                      &l4_ratelimit, &network_authz};
  for (const auto* f : kFilters)
    if (f->name() == name) return f;
  return nullptr;
}

const http::HttpFilterFactory* http::findHttpFilter(std::string_view name) {
  static const filters::legacy::HttpAdapter fault(filters::fault::factory());
  static const filters::legacy::HttpAdapter local_ratelimit(filters::local_ratelimit::factory());
  static const filters::legacy::HttpAdapter global_ratelimit(filters::global_ratelimit::factory());
  static const filters::legacy::HttpAdapter authz(filters::authz::factory());
  static const std::array<const HttpFilterFactory*, 6> kFilters = {
      &filters::router::factory(), &fault, &filters::header_mutation::factory(), &local_ratelimit, &global_ratelimit, &authz,
  };
  for (const auto* f : kFilters)
    if (f->name() == name) return f;
  return nullptr;
}

}  // namespace sluice
