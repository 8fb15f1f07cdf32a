#include "control/kubernetes/discovery.h"

#include "control/control_log.h"
#include "control/kubernetes/mesh_from_cluster.h"

namespace sluice::control::kubernetes {

Discovery::Discovery(KubernetesSpec spec, prometheus::Registry& registry)
    : spec_(std::move(spec)), metrics_(registry) {
  auto access = [this](std::string& error) { return resolveAccess(spec_, error); };
  for (const auto& type : discoveredResources()) {
    std::vector<std::string> scopes = {""};
    if (type.namespaced && !spec_.namespaces.empty()) scopes = spec_.namespaces;
    for (const auto& ns : scopes) {
      ResourceWatch::Options o;
      o.ns = ns;
      o.page_size = spec_.page_size;
      o.watch_timeout = spec_.watch_timeout;
      o.backoff_initial = spec_.backoff_initial;
      o.backoff_max = spec_.backoff_max;
      watches_.push_back(std::make_unique<ResourceWatch>(type, o, state_, metrics_, access));
    }
  }
}

Discovery::~Discovery() { stop(); }

void Discovery::start() {
  std::string error;
  const auto access = resolveAccess(spec_, error);
  log::info("kubernetes: discovering from " + (access ? access->describe : "(not yet: " + error + ")") + ", " +
            (spec_.namespaces.empty() ? std::string("every namespace")
                                      : std::to_string(spec_.namespaces.size()) + " namespace(s)"));
  for (auto& w : watches_) threads_.emplace_back([w = w.get()] { w->run(); });
  supervisor_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      const auto now = RequestCanceller::Clock::now();
      for (auto& w : watches_) w->expire(now);
    }
  });
}

void Discovery::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : watches_) w->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  if (supervisor_.joinable()) supervisor_.join();
}

bool Discovery::synced() const {
  for (const auto& w : watches_)
    if (!w->listed()) return false;
  return true;
}

mesh::Mesh Discovery::mesh() const { return meshFromCluster(state_.snapshot()); }

std::string discoveredText(const mesh::Mesh& m) {
  std::string out;
  for (const auto& s : m.services) out += s.source + "\n";
  for (const auto& w : m.workloads) out += w.source + "\n";
  for (const auto& [ns, labels] : m.namespace_labels) {
    out += "ns " + ns;
    for (const auto& [k, v] : labels) out += " " + k + "=" + v;
    out += "\n";
  }
  for (const auto& sa : m.service_accounts) out += "sa " + sa + "\n";
  return out;
}

}  // namespace sluice::control::kubernetes
