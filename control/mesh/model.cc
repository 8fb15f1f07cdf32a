#include "control/mesh/model.h"

namespace sluice::control::mesh {

std::string_view protocolName(Protocol p) {
  switch (p) {
    case Protocol::Http:
      return "http";
    case Protocol::Http2:
      return "http2";
    case Protocol::Grpc:
      return "grpc";
    case Protocol::Tcp:
      return "tcp";
  }
  return "http";
}

std::string_view mtlsModeName(MtlsMode m) {
  switch (m) {
    case MtlsMode::Strict:
      return "STRICT";
    case MtlsMode::Permissive:
      return "PERMISSIVE";
    case MtlsMode::Disable:
      return "DISABLE";
  }
  return "STRICT";
}

const ServicePort* Service::findPort(uint32_t port) const {
  for (const auto& p : ports)
    if (p.port == port) return &p;
  return nullptr;
}

namespace {

std::string indexKey(std::string_view ns, std::string_view name) {
  std::string key(ns);
  key += '/';
  key += name;
  return key;
}

// Through the index while it covers the list; a hit is checked, and a miss
// (rare in a valid mesh) scans, so an edited copy of a mesh still finds
// what it holds.
template <class T>
const T* find(const std::vector<T>& list, const std::unordered_map<std::string, size_t>& index, std::string_view ns,
              std::string_view name) {
  if (index.size() == list.size()) {
    const auto it = index.find(indexKey(ns, name));
    if (it != index.end() && it->second < list.size()) {
      const T& item = list[it->second];
      if (item.ns == ns && item.name == name) return &item;
    }
  }
  for (const auto& item : list)
    if (item.ns == ns && item.name == name) return &item;
  return nullptr;
}

template <class T>
void build(const std::vector<T>& list, std::unordered_map<std::string, size_t>& index) {
  index.clear();
  for (size_t i = 0; i < list.size(); ++i) index.emplace(indexKey(list[i].ns, list[i].name), i);
  // Duplicate names (an error the reader reports) leave it short: scans.
  if (index.size() != list.size()) index.clear();
}

}  // namespace

const Service* Mesh::findService(std::string_view ns, std::string_view name) const {
  return find(services, service_index_, ns, name);
}

const Workload* Mesh::findWorkload(std::string_view ns, std::string_view name) const {
  return find(workloads, workload_index_, ns, name);
}

void Mesh::index() {
  build(services, service_index_);
  build(workloads, workload_index_);
}

MtlsMode Mesh::mtlsFor(const Workload& w) const {
  const PeerAuthentication* best = nullptr;
  int best_rank = -1;
  for (const auto& pa : peer_authentication) {
    int rank = -1;
    if (!pa.workload.empty())
      rank = pa.ns == w.ns && pa.workload == w.name ? 2 : -1;
    else if (!pa.ns.empty())
      rank = pa.ns == w.ns ? 1 : -1;
    else
      rank = 0;
    if (rank > best_rank) {
      best = &pa;
      best_rank = rank;
    }
  }
  return best == nullptr ? MtlsMode::Strict : best->mode;
}

std::string Mesh::spiffeId(std::string_view ns, std::string_view service_account) const {
  return "spiffe://" + trust_domain + "/ns/" + std::string(ns) + "/sa/" + std::string(service_account);
}

}  // namespace sluice::control::mesh
