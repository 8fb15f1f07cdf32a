#pragma once
// The NAT rules of transparent capture, as iptables-restore text: a pure
// function of the options, so what the init step programs can be read (and
// is tested) as plain text. Applied with `iptables-restore --noflush`, which
// touches only the chains the text names.
//
// Our chains, all in the nat table:
//   SLUICE_INBOUND      from PREROUTING: which inbound TCP is captured
//   SLUICE_IN_REDIRECT  REDIRECT to the inbound port
//   SLUICE_OUTPUT       from OUTPUT: which outbound TCP is captured
//   SLUICE_REDIRECT     REDIRECT to the outbound port
// Declaring a chain in restore text with --noflush empties it first, so a
// second run replaces our rules instead of adding to them; only the jumps
// from PREROUTING and OUTPUT live in chains we do not own, and those are
// deleted by hookRemovals() before they are added again.

#include <string>
#include <string_view>

#include "proxy/capture/capture_options.h"

namespace sluice::capture {

enum class Family { V4, V6 };

// The whole rule set for one family, "*nat" to "COMMIT".
std::string renderRules(const CaptureOptions& opts, Family family);

// "-D" lines for the jumps into our chains found in `save` (the output of
// `iptables-save -t nat`); empty when there are none.
std::string hookRemovals(std::string_view save);

// What removes everything ours found in `save` ("*nat" ... "COMMIT"), or ""
// when nothing of ours is there.
std::string renderCleanup(std::string_view save);

// `renderRules`, preceded by the removal of the hooks already present: one
// restore that makes a second run idempotent and atomic.
std::string renderApply(const CaptureOptions& opts, Family family, std::string_view save);

}  // namespace sluice::capture
