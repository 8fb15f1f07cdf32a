#include "control/ca/workload_identity.h"

namespace sluice::control::ca {
namespace {

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string checkLabel(std::string_view label) {
  if (label.empty()) return "is empty";
  if (label.size() > 63) return "is longer than 63 characters";
  for (char c : label)
    if (!alnum(c) && c != '-') return "may hold only lower-case letters, digits and '-'";
  if (!alnum(label.front()) || !alnum(label.back())) return "must start and end with a letter or digit";
  return {};
}

}  // namespace

std::string WorkloadIdentity::spiffeId(std::string_view trust_domain) const {
  return "spiffe://" + std::string(trust_domain) + "/ns/" + ns + "/sa/" + sa;
}

std::string checkNamespace(std::string_view name) { return checkLabel(name); }

std::string checkServiceAccount(std::string_view name) {
  if (name.size() > 253) return "is longer than 253 characters";
  size_t start = 0;
  for (;;) {
    const size_t dot = name.find('.', start);
    const std::string why = checkLabel(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (!why.empty()) return why;
    if (dot == std::string_view::npos) return {};
    start = dot + 1;
  }
}

}  // namespace sluice::control::ca
