#pragma once
// Bootstrap tokens: how a workload proves, before it has a certificate,
// which namespace and service account it runs as.
//
//   v1/<namespace>/<service-account>/<hex HMAC-SHA256(key, "v1/<namespace>/<service-account>")>
//
// Whoever holds a key (the operator, an injector) mints tokens; the CA
// accepts a token signed with any of its configured keys, so a key is
// rotated by adding the new one, re-minting, then removing the old one.
// The MAC is compared in constant time. Any thread (TokenVerifier is
// immutable).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/ca/workload_identity.h"

namespace sluice::control::ca {

// Keys shorter than this are refused: a token is only as strong as its key.
inline constexpr size_t kMinTokenKeyBytes = 16;

// A key file's content with trailing whitespace (a final newline) removed.
// False with `error` set when the file cannot be read or the key is short.
bool readTokenKey(const std::string& path, std::string& key, std::string& error);

// The token for `id` under `key` (the identity must be valid).
std::string mintToken(std::string_view key, const WorkloadIdentity& id);

struct TokenCheck {
  std::optional<WorkloadIdentity> identity;  // set when the token is good
  std::string reason;                        // otherwise, why not
};

class TokenVerifier {
 public:
  explicit TokenVerifier(std::vector<std::string> keys) : keys_(std::move(keys)) {}
  TokenCheck verify(std::string_view token) const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace sluice::control::ca
