#include "control/ads_server.h"

namespace sluice::control {

std::string_view stateName(ProxyStatus::PerType::State s) {
  switch (s) {
    case ProxyStatus::PerType::State::Synced: return "SYNCED";
    case ProxyStatus::PerType::State::Stale: return "STALE";
    case ProxyStatus::PerType::State::Nacked: return "NACKED";
  }
  return "STALE";
}

}  // namespace sluice::control
