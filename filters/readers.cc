// The built-in filters' config halves (readers of their plain specs), one
// line each; their runtime halves are in filters/builtin.cc. Part of the
// config library: nothing here may reach into proxy/.
#include <array>

#include "config/filter_spec.h"
#include "filters/http/authz/authz.h"
#include "filters/http/fault/fault.h"
#include "filters/http/header_mutation/config.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/http/ratelimit/ratelimit.h"
#include "filters/legacy.h"
#include "filters/network/authz/network_authz.h"
#include "filters/network/http/config.h"
#include "filters/network/local_ratelimit/config.h"
#include "filters/network/tcp_proxy/config.h"

namespace sluice {

const config::NetworkFilterReader* config::findNetworkFilterReader(std::string_view name) {
  static const filters::legacy::NetworkReader l4_ratelimit(filters::l4_ratelimit::factory());
  static const filters::legacy::NetworkReader network_authz(filters::network_authz::factory());
  static const std::array<const NetworkFilterReader*, 4> kReaders = {&filters::tcp_proxy::reader(), &filters::http_cm::reader(),
                                                                     &l4_ratelimit, &network_authz};
  for (const auto* r : kReaders)
    if (r->name() == name) return r;
  return nullptr;
}

// The router is not here: it has no settings, and every HTTP listener adds it last.
const config::HttpFilterReader* config::findHttpFilterReader(std::string_view name) {
  static const filters::legacy::HttpReader fault(filters::fault::factory());
  static const filters::legacy::HttpReader local_ratelimit(filters::local_ratelimit::factory());
  static const filters::legacy::HttpReader global_ratelimit(filters::global_ratelimit::factory());
  static const filters::legacy::HttpReader authz(filters::authz::factory());
  static const std::array<const HttpFilterReader*, 5> kReaders = {&fault, &filters::header_mutation::reader(), &local_ratelimit,
                                                                  &global_ratelimit, &authz};
  for (const auto* r : kReaders)
    if (r->name() == name) return r;
  return nullptr;
}

}  // namespace sluice
