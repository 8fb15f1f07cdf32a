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

const Service* Mesh::findService(std::string_view ns, std::string_view name) const {
  for (const auto& s : services)
    if (s.ns == ns && s.name == name) return &s;
  return nullptr;
}

const Workload* Mesh::findWorkload(std::string_view ns, std::string_view name) const {
  for (const auto& w : workloads)
    if (w.ns == ns && w.name == name) return &w;
  return nullptr;
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
