#pragma once
// Who a certificate is for: a Kubernetes-style namespace and service
// account, named in the certificate as the SPIFFE ID
// spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.

#include <string>
#include <string_view>

namespace sluice::control::ca {

struct WorkloadIdentity {
  std::string ns;  // namespace
  std::string sa;  // service account
  std::string spiffeId(std::string_view trust_domain) const;
  bool operator==(const WorkloadIdentity&) const = default;
};

// A namespace is a DNS label: 1 to 63 of [a-z0-9-], starting and ending
// with a letter or digit. A service account is a DNS subdomain: such labels
// joined by dots, at most 253 characters. Either way the name is a valid
// SPIFFE path segment and cannot smuggle a '/' or ',' into the ID.
// Empty when valid, otherwise what is wrong.
std::string checkNamespace(std::string_view name);
std::string checkServiceAccount(std::string_view name);

}  // namespace sluice::control::ca
