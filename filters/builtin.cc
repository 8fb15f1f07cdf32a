// The built-in filters, one line each. Order here is only lookup order.
#include <array>

#include "filters/network/tcp_proxy/factory.h"

namespace sluice::network {

const NetworkFilterFactory* findNetworkFilter(std::string_view name) {
  static const std::array<const NetworkFilterFactory*, 1> kFilters = {
      &filters::tcp_proxy::factory(),
  };
  for (const auto* f : kFilters)
    if (f->name() == name) return f;
  return nullptr;
}

}  // namespace sluice::network
