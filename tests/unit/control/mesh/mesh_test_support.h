#pragma once
// Shared by the mesh's unit tests: looking up what the mesh generated (one
// proxy group's config, a listener in it) and a failed load's errors as the
// lines an operator reads.

#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "control/control_config.h"
#include "control/mesh/proxy_config.h"

namespace sluice::control::mesh::test {

// The generated config of proxy group `group` ("sidecar/NS/NAME", "gateway/NS/NAME"), or null.
inline const ProxyConfig* findProxy(const std::vector<ProxyConfig>& proxies, std::string_view group) {
  for (const auto& p : proxies)
    if (p.group == group) return &p;
  return nullptr;
}

inline const config::ListenerConfig* findListener(const config::Config& c, std::string_view name) {
  for (const auto& l : c.listeners)
    if (l.name == name) return &l;
  return nullptr;
}

// Each error as "file:line:col: path: message".
inline std::vector<std::string> errorLines(const ControlLoadResult& r) {
  std::vector<std::string> lines;
  for (const auto& e : r.errors) lines.push_back(e.str());
  return lines;
}

}  // namespace sluice::control::mesh::test
