#pragma once
// tcp_proxy: the terminal L4 filter. Streams bytes between the downstream
// connection and one upstream host of `cluster`, both ways, with half-close.
//
//   listeners:
//     - name: db
//       address: 0.0.0.0:5432
//       tcp_proxy:
//         cluster: db            # required
//         idle_timeout: 1h       # no byte either way this long closes both; 0 = never
//         max_connect_attempts: 3

#include <cstdint>
#include <string>

#include "config/model.h"

namespace sluice::filters::tcp_proxy {

struct Spec final : config::FilterSpec {
  std::string cluster;
  // Closes the pair when neither side sent a byte for this long. 0 = never.
  config::Duration idle_timeout{std::chrono::hours(1)};
  // Hosts tried (each a new connect) before the downstream is closed.
  uint32_t max_connect_attempts = 3;
  config::SourceLoc cluster_loc;

  nlohmann::json toJson() const override;
};

const config::NetworkFilterReader& reader();

}  // namespace sluice::filters::tcp_proxy
