// The built-in filters' config halves (readers of their plain specs), one
// line each; their runtime halves are in filters/builtin.cc. Part of the
// config library: nothing here may reach into proxy/.
#include <array>

#include "config/filter_spec.h"
#include "filters/http/authz/config.h"
#include "filters/http/fault/config.h"
#include "filters/http/header_mutation/config.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/http/ratelimit/config.h"
#include "filters/network/authz/config.h"
#include "filters/network/http/config.h"
#include "filters/network/local_ratelimit/config.h"
#include "filters/network/tcp_proxy/config.h"

namespace sluice {

const config::NetworkFilterReader* config::findNetworkFilterReader(std::string_view name) {
  static const std::array<const NetworkFilterReader*, 4> kReaders = {
      &filters::tcp_proxy::reader(),
      &filters::http_cm::reader(),
      &filters::l4_ratelimit::reader(),
      &filters::network_authz::reader(),
  };
  for (const auto* r : kReaders)
    if (r->name() == name) return r;
  return nullptr;
}

// The router is not here: it has no settings, and every HTTP listener adds it last.
const config::HttpFilterReader* config::findHttpFilterReader(std::string_view name) {
  static const std::array<const HttpFilterReader*, 5> kReaders = {
      &filters::fault::reader(),
      &filters::header_mutation::reader(),
      &filters::local_ratelimit::reader(),
      &filters::global_ratelimit::reader(),
      &filters::authz::reader(),
  };
  for (const auto* r : kReaders)
    if (r->name() == name) return r;
  return nullptr;
}

}  // namespace sluice
