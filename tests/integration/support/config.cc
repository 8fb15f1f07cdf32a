#include "tests/integration/support/config.h"

#include <algorithm>
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
      << "    address: 127.0.0.1:" << l.port << "\n"
      << "    max_connections: " << l.max_connections << "\n"
      << "    per_connection_buffer_limit_bytes: " << l.buffer_limit_bytes << "\n";
    if (l.http.empty()) {
      y << "    tcp_proxy: {cluster: " << l.cluster << ", idle_timeout: " << l.idle_timeout
        << ", max_connect_attempts: " << l.max_connect_attempts << "}\n";
    } else {
      y << "    http:\n";
      std::istringstream in(dedent(l.http));
      std::string line;
      while (std::getline(in, line)) y << "      " << line << "\n";
    }
    for (const auto& extra : l.extra_lines) y << "    " << extra << "\n";
  }
  y << "clusters:\n";
  for (const auto& c : spec.clusters) {
    y << "  - name: " << c.name << "\n"
      << "    connect_timeout: " << c.connect_timeout << "\n";
    for (const auto& extra : c.extra_lines) y << "    " << extra << "\n";
    y << "    endpoints:\n";
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

ConfigSpec httpConfig(std::string http_yaml, std::vector<ClusterSpec> clusters) {
  ConfigSpec spec;
  ListenerSpec l;
  l.name = "web";
  l.http = std::move(http_yaml);
  spec.listeners.push_back(std::move(l));
  spec.clusters = std::move(clusters);
  return spec;
}

ClusterSpec cluster(std::string name, std::vector<uint16_t> ports) {
  ClusterSpec c;
  c.name = std::move(name);
  c.ports = std::move(ports);
  return c;
}

std::string dedent(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    lines.push_back(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  while (!lines.empty() && lines.front().find_first_not_of(" \t") == std::string_view::npos) {
    lines.erase(lines.begin());
  }
  size_t indent = std::string_view::npos;
  for (auto l : lines) {
    size_t first = l.find_first_not_of(' ');
    if (first != std::string_view::npos) indent = std::min(indent, first);
  }
  if (indent == std::string_view::npos) indent = 0;
  std::string out;
  for (auto l : lines) {
    if (l.find_first_not_of(' ') == std::string_view::npos) continue;
    out.append(l.substr(indent)).append("\n");
  }
  return out;
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
