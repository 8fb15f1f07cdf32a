#include "filters/network/tcp_proxy/config.h"

#include "config/config_json.h"
#include "config/yaml_reader.h"

namespace sluice::filters::tcp_proxy {

nlohmann::json TcpProxyConfig::toJson() const {
  return {{"cluster", cluster},
          {"idle_timeout", config::durationString(idle_timeout)},
          {"max_connect_attempts", max_connect_attempts}};
}

}  // namespace sluice::filters::tcp_proxy
