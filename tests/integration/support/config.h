#pragma once
// Renders sluice YAML configs for the tests from a small spec, so each test
// states only what it cares about. Ports are always real, bound by the test.

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::itest {

struct ListenerSpec {
  std::string name = "l1";
  std::string cluster = "c1";
  uint32_t max_connections = 0;
  uint32_t buffer_limit_bytes = 1024 * 1024;
  std::string idle_timeout = "1h";
  uint32_t max_connect_attempts = 3;
  // Extra lines inserted verbatim into this listener's mapping (already
  // indented by the renderer), e.g. a deliberately unknown field.
  std::vector<std::string> extra_lines;
};

struct ClusterSpec {
  std::string name = "c1";
  std::string connect_timeout = "1s";
  std::vector<uint16_t> ports;  // endpoints 127.0.0.1:PORT, weight 1
};

struct ConfigSpec {
  uint32_t workers = 2;
  std::string drain_timeout = "10s";
  std::vector<ListenerSpec> listeners;
  std::vector<ClusterSpec> clusters;
};

std::string renderConfig(const ConfigSpec& spec);

// The common shape: listener l1 -> cluster c1 with the given endpoint ports.
ConfigSpec simpleConfig(std::vector<uint16_t> ports);

// 1-based line of the first line containing `needle`; 0 when absent.
int lineOf(const std::string& text, const std::string& needle);

}  // namespace sluice::itest
