#include "control/ca/ca_runtime.h"

namespace sluice::control::ca {
namespace {

std::shared_ptr<const TokenVerifier> loadTokens(const CaSpec& spec, config::ParseContext& errors) {
  std::vector<std::string> keys;
  bool ok = true;
  for (size_t i = 0; i < spec.token_keys.size(); ++i) {
    std::string key, error;
    if (!readTokenKey(spec.token_keys[i].path, key, error)) {
      errors.error(spec.token_keys[i].loc, "ca.token_keys[" + std::to_string(i) + "]",
                   spec.token_keys[i].path + ": " + error);
      ok = false;
      continue;
    }
    keys.push_back(std::move(key));
  }
  return ok ? std::make_shared<const TokenVerifier>(std::move(keys)) : nullptr;
}

}  // namespace

std::shared_ptr<const CaRuntime> CaRuntime::build(const CaSpec& spec, SysTime now, config::ParseContext& errors) {
  auto tokens = loadTokens(spec, errors);
  auto authority = Authority::build(spec, now, errors);
  if (!tokens || !authority) return nullptr;
  return std::make_shared<const CaRuntime>(CaRuntime{spec, std::move(authority), std::move(tokens)});
}

std::shared_ptr<const CaRuntime> CaRuntime::reconfigured(const CaSpec& next, config::ParseContext& errors) const {
  if (const std::string field = spec.restartNeededFor(next); !field.empty()) {
    errors.error(next.loc, field, "changing it takes a restart of sluice-control (the running CA keeps its keys)");
    return nullptr;
  }
  auto tokens = loadTokens(next, errors);
  auto authority = this->authority->withPolicy(next, errors);
  if (!tokens || !authority) return nullptr;
  return std::make_shared<const CaRuntime>(CaRuntime{next, std::move(authority), std::move(tokens)});
}

}  // namespace sluice::control::ca
