#include "control/status_report.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "xds/type_urls.h"

namespace sluice::control {

std::string_view discoveryServiceName(std::string_view type_url) {
  if (type_url == xds::kClusterType) return "CDS";
  if (type_url == xds::kClusterLoadAssignmentType) return "EDS";
  if (type_url == xds::kListenerType) return "LDS";
  if (type_url == xds::kRouteConfigurationType) return "RDS";
  if (type_url == xds::kSecretType) return "SDS";
  return xds::shortTypeName(type_url);
}

std::string isoTime(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms < 0 ? 0 : ms));
  return buf;
}

nlohmann::json statusToJson(const DaemonStatus& s) {
  nlohmann::json j;
  j["config"] = {{"file", s.config_file}, {"version", s.config_version}, {"loaded_at", isoTime(s.config_loaded_at)}};
  if (s.last_rejection)
    j["last_rejection"] = {{"at", isoTime(s.last_rejection->at)}, {"errors", s.last_rejection->errors}};
  else
    j["last_rejection"] = nullptr;
  j["groups"] = nlohmann::json::object();
  for (const auto& [name, versions] : s.groups) j["groups"][name] = versions;
  j["proxies"] = nlohmann::json::array();
  for (const ProxyStatus& p : s.proxies) {
    nlohmann::json types = nlohmann::json::array();
    for (const auto& t : p.types)
      types.push_back({{"type_url", t.type_url},
                       {"type", discoveryServiceName(t.type_url)},
                       {"version_sent", t.version_sent},
                       {"version_acked", t.version_acked},
                       {"state", stateName(t.state)},
                       {"error", t.error}});
    j["proxies"].push_back({{"node_id", p.node_id},
                            {"node_cluster", p.node_cluster},
                            {"group", p.group},
                            {"peer", p.peer},
                            {"delta", p.delta},
                            {"connected_at", isoTime(p.connected_at)},
                            {"types", std::move(types)}});
  }
  return j;
}

bool statusRows(const nlohmann::json& status, std::vector<StatusRow>& rows, std::string& error) {
  auto str = [](const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!status.is_object() || !status.contains("proxies") || !status["proxies"].is_array()) {
    error = "not a sluice-control status document (no \"proxies\" list)";
    return false;
  }
  rows.clear();
  for (const auto& p : status["proxies"]) {
    if (!p.is_object()) continue;
    if (!p.contains("types") || !p["types"].is_array() || p["types"].empty()) {
      // Connected, nothing asked for yet: still a line, so it is seen.
      rows.push_back({str(p, "node_id"), str(p, "group"), "-", "", "", "", ""});
      continue;
    }
    for (const auto& t : p["types"])
      rows.push_back({str(p, "node_id"), str(p, "group"), str(t, "type"), str(t, "version_sent"),
                      str(t, "version_acked"), str(t, "state"), str(t, "error")});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const StatusRow& a, const StatusRow& b) { return a.node_id < b.node_id; });
  return true;
}

std::string formatStatusTable(const std::vector<StatusRow>& rows) {
  auto fields = [](const StatusRow& r) {
    // A proxy no group matched yet has no group: "-", so every line has its columns.
    return std::array<std::string, 7>{r.node_id, r.group.empty() ? "-" : r.group, r.type, r.version_sent.empty() ? "-" : r.version_sent,
                                      r.version_acked.empty() ? "-" : r.version_acked, r.state, r.error};
  };
  const std::array<std::string, 7> header = {"NAME", "GROUP", "TYPE", "SENT", "ACKED", "STATE", "ERROR"};
  std::array<size_t, 7> width{};
  for (size_t i = 0; i < 7; ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    const auto f = fields(r);
    for (size_t i = 0; i < 7; ++i) width[i] = std::max(width[i], f[i].size());
  }
  std::string out;
  auto line = [&](const std::array<std::string, 7>& f) {
    std::string l;
    for (size_t i = 0; i < 7; ++i) {
      l += f[i];
      if (i + 1 < 7) l.append(width[i] - f[i].size() + 3, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    // An error message is one line in the table whatever it holds.
    std::replace(l.begin(), l.end(), '\n', ' ');
    out += l + "\n";
  };
  line(header);
  for (const auto& r : rows) line(fields(r));
  return out;
}

}  // namespace sluice::control
