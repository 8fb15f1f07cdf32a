#pragma once
// A request's hash key for ring_hash and maglev, as plain data: where it
// comes from. A cluster lists its sources (every route to it hashes the
// same way); a route may list its own, which then win, as Envoy's route
// hash_policy does. The first source that yields a value wins; with none
// the pick is random.
//
//   hash_policy:
//     - header: x-user            # or cookie: session / query_parameter: u
//     - source_ip: true

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::config {

class MapReader;

struct HashPolicyConfig {
  enum class Kind { Header, Cookie, QueryParameter, SourceIp };
  Kind kind = Kind::Header;
  std::string name;  // header (lower case), cookie or query parameter name; empty for SourceIp
  bool operator==(const HashPolicyConfig&) const = default;
};

// Reads `hash_policy` from `r` (a cluster or a route action) into `out`.
void readHashPolicy(MapReader& r, std::vector<HashPolicyConfig>& out);
nlohmann::json toJson(const std::vector<HashPolicyConfig>& policy);

}  // namespace sluice::config
