#include "tests/integration/support/config.h"

#include <sstream>

namespace sluice::itest {

std::string renderConfig(const ConfigSpec& spec) {
  std::ostringstream y;
  y << "admin: {address: 127.0.0.1:0}\n"
    << "workers: " << spec.workers << "\n"
    << "drain_timeout: " << spec.drain_timeout << "\n"
    << "listeners:\n";
  for (const auto& l : spec.listeners) {
    y << "  - name: " << l.name << "\n"
      << "    address: 127.0.0.1:0\n"
      << "    max_connections: " << l.max_connections << "\n"
      << "    per_connection_buffer_limit_bytes: " << l.buffer_limit_bytes << "\n"
      << "    tcp_proxy: {cluster: " << l.cluster << ", idle_timeout: " << l.idle_timeout
      << ", max_connect_attempts: " << l.max_connect_attempts << "}\n";
    for (const auto& extra : l.extra_lines) y << "    " << extra << "\n";
  }
  y << "clusters:\n";
  for (const auto& c : spec.clusters) {
    y << "  - name: " << c.name << "\n"
      << "    connect_timeout: " << c.connect_timeout << "\n"
      << "    endpoints:\n";
    for (uint16_t port : c.ports) y << "      - {address: 127.0.0.1:" << port << ", weight: 1}\n";
  }
  return y.str();
}

ConfigSpec simpleConfig(std::vector<uint16_t> ports) {
  ConfigSpec spec;
  spec.listeners.push_back(ListenerSpec{});
  ClusterSpec c;
  c.ports = std::move(ports);
  spec.clusters.push_back(c);
  return spec;
}

int lineOf(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(needle) != std::string::npos) return n;
  }
  return 0;
}

}  // namespace sluice::itest
