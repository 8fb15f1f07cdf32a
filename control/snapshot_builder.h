#pragma once
// control.yaml's groups -> the snapshots the ADS server serves
// (control/snapshot.h). All the thinking of the control plane is here and in
// xds::toEnvoy; no sockets, no threads, so tests drive it directly.
//
// Versions are content hashes, never counters: a resource's version is a
// short hash of its deterministic serialization (map entries in key order,
// nested Anys re-serialized the same way), and a type's version a hash over
// its resources' names and versions. So a reload that leaves a type
// unchanged leaves its version unchanged and the server pushes nothing for
// it, and a restarted daemon offers the versions its proxies already hold.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "config/model.h"
#include "control/control_config.h"
#include "control/snapshot.h"

namespace sluice::control {

// 12 hex digits of a stable 64-bit hash of `bytes` (the same in every run
// and build).
std::string contentVersion(std::string_view bytes);

// Rewrites `any`'s value as the deterministic serialization of its message.
// A type this binary does not know is left as it is.
void canonicalize(google::protobuf::Any& any);

// One group's snapshot from its validated config. Every type of
// xds::kSendOrder is present, empty or not: a client subscribed to a type
// the group has nothing of (Envoy asks CDS first and waits for the answer)
// gets an empty response rather than none.
std::shared_ptr<const GroupSnapshot> buildSnapshot(const std::string& group,
                                                   std::shared_ptr<const config::Config> cfg);

// Keeps the last snapshot of each group across reloads. Not thread-safe:
// one owner (the daemon's reload path).
class SnapshotBuilder {
 public:
  struct Update {
    // Groups new or whose input changed, and groups removed from the file
    // (as an empty snapshot, so their proxies drop what they were served):
    // what to publish.
    std::vector<std::shared_ptr<const GroupSnapshot>> changed;
    // Every current group's snapshot, by name.
    std::map<std::string, std::shared_ptr<const GroupSnapshot>> all;
  };
  Update update(const ControlConfig& cfg);
  // How many group snapshots have been built in all (tests).
  size_t builds() const { return builds_; }

 private:
  struct Built {
    std::string input;
    std::shared_ptr<const GroupSnapshot> snapshot;
  };
  std::map<std::string, Built> groups_;
  size_t builds_ = 0;
};

}  // namespace sluice::control
