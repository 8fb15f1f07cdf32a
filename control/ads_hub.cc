#include "control/ads_hub.h"

namespace sluice::control {

void AdsHub::add(AdsStreamHandle* stream) {
  std::lock_guard lock(mu_);
  all_.insert(stream);
}

void AdsHub::leave(AdsStreamHandle* stream) {
  std::lock_guard lock(mu_);
  all_.erase(stream);
  nodes_.erase(stream);
  unmatched_.erase(stream);
  if (auto it = group_of_.find(stream); it != group_of_.end()) {
    if (auto g = groups_.find(it->second); g != groups_.end()) {
      g->second.erase(stream);
      if (g->second.empty()) groups_.erase(g);
    }
    group_of_.erase(it);
  }
  gone_.notify_all();
}

void AdsHub::join(AdsStreamHandle* stream, const envoy::config::core::v3::Node& node) {
  std::lock_guard lock(mu_);
  nodes_[stream] = node;
  const std::string group = match_ ? match_(node) : std::string();
  if (group.empty()) {
    unmatched_.insert(stream);
    return;
  }
  groups_[group].insert(stream);
  group_of_[stream] = group;
  if (auto it = snapshots_.find(group); it != snapshots_.end()) stream->adopt(it->second, {});
}

void AdsHub::publish(std::shared_ptr<const GroupSnapshot> snapshot) {
  if (!snapshot) return;
  const auto now = std::chrono::steady_clock::now();
  auto served = std::make_shared<const ServedSnapshot>(snapshot, &metrics_);
  const std::string& group = snapshot->group;
  std::vector<AdsStreamHandle*> touched;
  {
    std::lock_guard lock(mu_);
    snapshots_[group] = served;
    // A group may be new (or the matcher may have changed with the input
    // that produced it): streams waiting for a group get another chance.
    for (auto it = unmatched_.begin(); it != unmatched_.end();) {
      if (match_ && match_(nodes_[*it]) == group) {
        groups_[group].insert(*it);
        group_of_[*it] = group;
        it = unmatched_.erase(it);
      } else {
        ++it;
      }
    }
    if (auto g = groups_.find(group); g != groups_.end()) {
      touched.reserve(g->second.size());
      for (auto* s : g->second) {
        s->adopt(served, now);
        s->ref();
        touched.push_back(s);
      }
    }
  }
  for (auto* s : touched) {
    s->flush();
    s->unref();
  }
}

void AdsHub::rematch() {
  if (!match_) return;
  std::vector<AdsStreamHandle*> touched;
  {
    std::lock_guard lock(mu_);
    for (const auto& [stream, node] : nodes_) {
      const std::string group = match_(node);
      auto was = group_of_.find(stream);
      const std::string old = was == group_of_.end() ? std::string() : was->second;
      if (group == old) continue;
      if (!old.empty()) {
        if (auto g = groups_.find(old); g != groups_.end()) {
          g->second.erase(stream);
          if (g->second.empty()) groups_.erase(g);
        }
      }
      if (group.empty()) {
        group_of_.erase(stream);
        unmatched_.insert(stream);
        continue;  // keeps what it has until a group takes it
      }
      unmatched_.erase(stream);
      group_of_[stream] = group;
      groups_[group].insert(stream);
      if (auto snap = snapshots_.find(group); snap != snapshots_.end()) {
        stream->adopt(snap->second, std::chrono::steady_clock::now());
        stream->ref();
        touched.push_back(stream);
      }
    }
  }
  for (auto* s : touched) {
    s->flush();
    s->unref();
  }
}

std::vector<ProxyStatus> AdsHub::status() const {
  std::lock_guard lock(mu_);
  std::vector<ProxyStatus> out;
  for (const auto& [stream, group] : group_of_) out.push_back(stream->status());
  for (auto* stream : unmatched_) out.push_back(stream->status());
  std::sort(out.begin(), out.end(), [](const ProxyStatus& a, const ProxyStatus& b) {
    return std::tie(a.node_id, a.connected_at) < std::tie(b.node_id, b.connected_at);
  });
  return out;
}

bool AdsHub::closeAll(std::chrono::milliseconds timeout) {
  std::vector<AdsStreamHandle*> streams;
  {
    std::lock_guard lock(mu_);
    for (auto* s : all_) {
      s->ref();
      streams.push_back(s);
    }
  }
  for (auto* s : streams) {
    s->close();
    s->unref();
  }
  std::unique_lock lock(mu_);
  return gone_.wait_for(lock, timeout, [&] { return all_.empty(); });
}

}  // namespace sluice::control
