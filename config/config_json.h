#pragma once
// The active config rendered as JSON for /config_dump, and the canonical form
// used to tell whether a listener changed across a reload.

#include <nlohmann/json.hpp>

#include "config/model.h"

namespace sluice::config {

nlohmann::json toJson(const Config& c);
nlohmann::json toJson(const ListenerConfig& l);
nlohmann::json toJson(const ClusterConfig& c);
nlohmann::json toJson(const ClusterLoadAssignmentSpec& a);
nlohmann::json toJson(const DownstreamTlsConfig& t);
nlohmann::json toJson(const Http2Settings& h2);
nlohmann::json toJson(const UpstreamTlsConfig& t);
nlohmann::json toJson(const ConfigSourceSpec& s);
nlohmann::json toJson(const SecretSpec& s);
std::string durationString(Duration d);  // "250ms", "5s"

}  // namespace sluice::config
