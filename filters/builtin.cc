// The built-in filters, one line each. Order here is only lookup order.
#include <array>

#include "filters/http/authz/authz.h"
#include "filters/http/fault/fault.h"
#include "filters/http/header_mutation/header_mutation.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/http/ratelimit/ratelimit.h"
#include "filters/http/router/router.h"
#include "filters/network/authz/network_authz.h"
#include "filters/network/http/config.h"
#include "filters/network/local_ratelimit/config.h"
#include "filters/network/tcp_proxy/factory.h"

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
