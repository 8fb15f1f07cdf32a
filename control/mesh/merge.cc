#include "control/mesh/merge.h"

#include <set>
#include <utility>

namespace sluice::control::mesh {
namespace {

template <class T>
void addMissing(std::vector<T>& into, const std::vector<T>& from, const char* kind,
                std::vector<std::string>* shadowed) {
  std::set<std::pair<std::string, std::string>> have;
  for (const auto& item : into) have.emplace(item.ns, item.name);
  for (const auto& item : from) {
    if (have.count({item.ns, item.name}) != 0) {
      if (shadowed != nullptr) shadowed->push_back(std::string(kind) + " " + item.ns + "/" + item.name);
      continue;
    }
    into.push_back(item);
  }
}

}  // namespace

void mergeDiscovered(Mesh& mesh, const Mesh& discovered, std::vector<std::string>* shadowed) {
  addMissing(mesh.services, discovered.services, "service", shadowed);
  addMissing(mesh.workloads, discovered.workloads, "workload", shadowed);
  mesh.namespace_labels = discovered.namespace_labels;
  mesh.service_accounts = discovered.service_accounts;
}

}  // namespace sluice::control::mesh
