#pragma once
// Renders sluice YAML configs for the tests from a small spec, so each test
// states only what it cares about. Ports are always real, bound by the test.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::itest {

struct ListenerSpec {
  std::string name = "l1";
  uint16_t port = 0;  // 0: the kernel picks one
  std::string cluster = "c1";
  uint32_t max_connections = 0;
  uint32_t buffer_limit_bytes = 1024 * 1024;
  std::string idle_timeout = "1h";
  uint32_t max_connect_attempts = 3;
  // Extra lines inserted verbatim into this listener's mapping (already
  // indented by the renderer), e.g. a deliberately unknown field.
  std::vector<std::string> extra_lines;
  // When set, the listener gets `http:` with this YAML mapping (any common
  // indentation is removed first) instead of tcp_proxy.
  std::string http;
};

struct ClusterSpec {
  std::string name = "c1";
  std::string connect_timeout = "1s";
  std::vector<uint16_t> ports;  // endpoints 127.0.0.1:PORT, weight 1
  // Extra lines inserted verbatim into this cluster's mapping, e.g.
  // "idle_timeout: 2s".
  std::vector<std::string> extra_lines;
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

// One HTTP listener "web" with the given `http:` mapping, and the clusters.
ConfigSpec httpConfig(std::string http_yaml, std::vector<ClusterSpec> clusters);
ClusterSpec cluster(std::string name, std::vector<uint16_t> ports);

// Removes the indentation common to all non-blank lines, and leading blank
// lines, so YAML can be written indented inside a raw string literal.
std::string dedent(std::string_view text);

// 1-based line of the first line containing `needle`; 0 when absent.
int lineOf(const std::string& text, const std::string& needle);

}  // namespace sluice::itest
