// The built-in filters' runtime halves, one line each (their readers are in
// filters/readers.cc). Order here is only lookup order.
#include <array>

#include "filters/http/authz/filter.h"
#include "filters/http/fault/filter.h"
#include "filters/http/header_mutation/filter.h"
#include "filters/http/local_ratelimit/filter.h"
#include "filters/http/ratelimit/filter.h"
#include "filters/http/router/router.h"
#include "filters/network/authz/filter.h"
#include "filters/network/http/filter.h"
#include "filters/network/local_ratelimit/filter.h"
#include "filters/network/tcp_proxy/filter.h"

namespace sluice {

const net::NetworkFilterFactory* net::findNetworkFilter(std::string_view name) {
  static const std::array<const NetworkFilterFactory*, 4> kFilters = {
      &filters::tcp_proxy::factory(),
      &filters::http_cm::factory(),
      &filters::l4_ratelimit::factory(),
      &filters::network_authz::factory(),
  };
  for (const auto* f : kFilters)
    if (f->name() == name) return f;
  return nullptr;
}

const http::HttpFilterFactory* http::findHttpFilter(std::string_view name) {
  static const std::array<const HttpFilterFactory*, 6> kFilters = {
      &filters::router::factory(),
      &filters::fault::factory(),
      &filters::header_mutation::factory(),
      &filters::local_ratelimit::factory(),
      &filters::global_ratelimit::factory(),
      &filters::authz::factory(),
  };
  for (const auto* f : kFilters)
    if (f->name() == name) return f;
  return nullptr;
}

}  // namespace sluice
