#pragma once
// What a running CA holds, built from a CaSpec: the Authority and the
// bootstrap-token keys, as one immutable pair that a reload replaces whole.
//
// Reloads: extra_roots, default_ttl, max_ttl and token_keys apply on a
// reload (the same keys, a new policy). A change to trust_domain, dir, root
// or intermediate, or adding or removing `ca:`, is refused: the whole edit
// is rejected with an error naming the field, and the CA goes on as it
// was; such a change takes a restart (control/control_daemon.h).

#include <memory>
#include <string>

#include "config/yaml_reader.h"
#include "control/ca/authority.h"
#include "control/ca/bootstrap_token.h"
#include "control/ca/ca_config.h"

namespace sluice::control::ca {

struct CaRuntime {
  CaSpec spec;
  std::shared_ptr<const Authority> authority;
  std::shared_ptr<const TokenVerifier> tokens;

  // Null with every error in `errors` (positions of the files in control.yaml).
  static std::shared_ptr<const CaRuntime> build(const CaSpec& spec, SysTime now, config::ParseContext& errors);
  // This CA under `next`; null with errors when `next` needs a restart or
  // names a file that cannot be used.
  std::shared_ptr<const CaRuntime> reconfigured(const CaSpec& next, config::ParseContext& errors) const;
};

}  // namespace sluice::control::ca
