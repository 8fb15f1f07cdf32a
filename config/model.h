#pragma once
// The typed config model: plain immutable data, shared by the YAML loader
// and (later) the xDS translation. Nothing here knows about sockets or threads.
//
// A loaded Config is validated whole before anything uses it; once published
// it is never mutated (workers hold shared_ptr<const Config>).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/net/address.h"

namespace sluice::network {
class NetworkFilterConfig;
}

namespace sluice::config {

using Duration = std::chrono::milliseconds;

// Where a value came from, so cross-reference errors can name file:line:col.
struct SourceLoc {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based
};

struct AdminConfig {
  net::Address address = *net::Address::parse("127.0.0.1:9901");
};

struct EndpointConfig {
  net::Address address;
  uint32_t weight = 1;  // 1..128
};

struct ClusterConfig {
  std::string name;
  Duration connect_timeout{std::chrono::seconds(5)};
  std::string lb_policy = "round_robin";
  std::vector<EndpointConfig> endpoints;
  // HTTP connection pool, per worker per host.
  uint32_t max_connections_per_host = 1024;
  uint32_t max_pending_requests = 1024;
  Duration idle_timeout{std::chrono::seconds(60)};  // idle pooled connections close after this
  SourceLoc loc;
};

// One configured network filter: its registered name and its parsed config.
struct NetworkFilterEntry {
  std::string name;
  std::shared_ptr<const network::NetworkFilterConfig> config;
};

struct ListenerConfig {
  std::string name;
  net::Address address;
  uint32_t max_connections = 0;  // 0 = unlimited
  // High watermark of each connection's write buffer; the low watermark is half.
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  // Network filters in order; the last one is terminal (tcp_proxy today).
  std::vector<NetworkFilterEntry> filters;
  SourceLoc loc;
};

struct Config {
  std::string source_file;  // for messages only
  AdminConfig admin;
  uint32_t workers = 0;  // 0 = one per core
  // How long a draining listener (removed on reload, or all on SIGTERM) lets
  // its connections finish before they are closed.
  Duration drain_timeout{std::chrono::seconds(10)};
  std::vector<ListenerConfig> listeners;
  std::vector<ClusterConfig> clusters;

  const ClusterConfig* findCluster(std::string_view name) const {
    for (const auto& c : clusters)
      if (c.name == name) return &c;
    return nullptr;
  }
};

}  // namespace sluice::config
