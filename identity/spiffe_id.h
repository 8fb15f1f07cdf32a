#pragma once
// SPIFFE IDs ("spiffe://trust-domain/path"): parsing by the rules that
// matter for matching, and the matchers authorization and TLS peer checks
// use (an exact ID, or every ID under a path prefix). Plain string values:
// the config library checks patterns with them, the proxy matches peers,
// and the control plane will name workloads with them. Any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::identity {

struct SpiffeId {
  std::string trust_domain;  // "sluice.test"
  std::string path;          // "/ns/default/sa/client"; empty for a bare trust domain
  std::string str() const { return "spiffe://" + trust_domain + path; }
};

// Validates the SPIFFE ID rules that matter for matching: scheme exactly
// "spiffe"; a non-empty trust domain of [a-z0-9._-] (lower case, no port,
// no user info); a path of non-empty segments of [A-Za-z0-9._-], none "."
// or ".."; no trailing slash, query or fragment; at most 2048 bytes.
// `allow_bare_trust_domain` accepts "spiffe://td" (a trust domain ID, not a
// workload ID). On failure `why` (if given) says what is wrong.
std::optional<SpiffeId> parseSpiffeId(std::string_view uri, std::string* why = nullptr,
                                      bool allow_bare_trust_domain = false);

// One allowed identity: "spiffe://td/ns/default/sa/client" matches exactly
// that ID; a pattern ending in "/*" ("spiffe://td/ns/default/*",
// "spiffe://td/*") matches every ID below that prefix, on segment
// boundaries. Built at config time.
class SpiffeIdMatcher {
 public:
  // Null with `why` set for a malformed pattern.
  static std::optional<SpiffeIdMatcher> parse(std::string_view pattern, std::string* why = nullptr);
  bool matches(std::string_view spiffe_id) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::string prefix_;  // exact: the ID; prefix: "spiffe://td/ns/default/"
  bool is_prefix_ = false;
};

// True when some matcher accepts `spiffe_id`; an empty list accepts nothing.
bool anyMatches(const std::vector<SpiffeIdMatcher>& matchers, std::string_view spiffe_id);

}  // namespace sluice::identity
