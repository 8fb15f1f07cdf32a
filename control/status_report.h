#pragma once
// What the daemon reports about itself: GET /status's JSON, and the table
// `sluice-control status` prints from it (one line per connected proxy per
// resource type, as `istioctl proxy-status` does). The JSON is the contract
// between the two; the CLI reads nothing else.
//
//   {"config": {"file": "control.yaml", "version": "3f9c0a17be42", "loaded_at": "2026-12-04T04:00:00.000Z"},
//    "last_rejection": null | {"at": "...", "errors": ["control.yaml:9:22: groups[0]...: port out of range"]},
//    "groups": {"edge": {"CDS": "2f719b9e3e47", "EDS": "…", "LDS": "…", "RDS": "…", "SDS": "…"}},
//    "proxies": [{"node_id": "edge-1", "node_cluster": "edge", "group": "edge", "peer": "ipv4:127.0.0.1:53412",
//                 "delta": false, "connected_at": "...",
//                 "types": [{"type_url": "type.googleapis.com/...Cluster", "type": "CDS",
//                            "version_sent": "...", "version_acked": "...", "state": "SYNCED", "error": ""}]}]}

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/ads_server.h"

namespace sluice::control {

struct Rejection {
  std::chrono::system_clock::time_point at;
  std::vector<std::string> errors;  // "file:line:col: path: message"
};

struct DaemonStatus {
  std::string config_file;
  std::string config_version;  // a hash of the serving file's bytes
  std::chrono::system_clock::time_point config_loaded_at;
  std::optional<Rejection> last_rejection;  // the latest edit refused, if any since start
  // Each group's current version per type ("CDS" -> version): what a
  // proxy of the group is SYNCED to once it has ACKed it.
  std::map<std::string, std::map<std::string, std::string>> groups;
  std::vector<ProxyStatus> proxies;
};

// "CDS", "EDS", "LDS", "RDS", "SDS"; the type's short name otherwise.
std::string_view discoveryServiceName(std::string_view type_url);
// "2026-12-04T04:00:00.123Z"
std::string isoTime(std::chrono::system_clock::time_point t);

nlohmann::json statusToJson(const DaemonStatus& status);

// One row of `sluice-control status`.
struct StatusRow {
  std::string node_id, group, type, version_sent, version_acked, state, error;
};
// The rows of a /status document, by node id then in the server's type
// order; false with a reason when the document is not one.
bool statusRows(const nlohmann::json& status, std::vector<StatusRow>& rows, std::string& error);
// Aligned columns under a header: NAME GROUP TYPE SENT ACKED STATE ERROR.
std::string formatStatusTable(const std::vector<StatusRow>& rows);

}  // namespace sluice::control
