#pragma once
// Peer identity from a verified X.509 certificate: URI SANs and the SPIFFE
// ID ("spiffe://trust-domain/path") they carry, plus matchers used by
// authorization checks (exact ID, or every ID under a path prefix).
//
// Pure functions and immutable matchers: any thread.

#include <openssl/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::tls {

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

// Every URI SAN of the certificate, in certificate order.
std::vector<std::string> uriSans(const X509* cert);

// The certificate's SPIFFE ID: set only when it has exactly one URI SAN and
// that is a valid workload SPIFFE ID (an X509-SVID has exactly one).
std::optional<std::string> spiffeIdOf(const X509* cert);

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

}  // namespace sluice::tls
