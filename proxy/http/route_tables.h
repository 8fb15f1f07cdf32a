#pragma once
// The route tables of one config version, by name, with each route's stats
// block. Built from the config's specs on the main thread with a snapshot
// (RE2 compiled, per-filter configs built there) and read, never changed,
// by the workers: a stream looks its listener's table up when it starts and
// keeps this object alive until it ends, so a reload that changes only
// routes reaches live connections at their next request.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/model.h"

namespace sluice::stats {
struct RouteStats;
template <class Block>
class PerWorker;
}  // namespace sluice::stats

namespace sluice::http {

class RouteConfig;

struct RouteTables {
  std::shared_ptr<const config::Config> config;  // the specs the tables were built from
  std::unordered_map<std::string, std::shared_ptr<const RouteConfig>> by_name;
  // Keyed by the address of a Route inside one of the tables.
  std::unordered_map<const void*, stats::PerWorker<stats::RouteStats>*> stats;

  // Null when no table has that name (a listener whose table has not
  // arrived over xDS yet): its requests get 404 NR.
  const RouteConfig* find(std::string_view name) const {
    auto it = by_name.find(std::string(name));
    return it == by_name.end() ? nullptr : it->second.get();
  }
};

}  // namespace sluice::http
