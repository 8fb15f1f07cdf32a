#pragma once
// References between resources that a file gives inline and the reader
// lifts into named resources of their own: a cluster's load assignment (its
// endpoints) and a TLS block's secrets. Read from YAML they are always
// there; a source whose resources arrive one by one (xDS) may name one it
// has not delivered yet. A missing one goes through
// ParseContext::missingReference: an error naming the referring block's
// file:line:col for a file, a warning under References::WarnAndServe. There
// a cluster without its load assignment has no hosts and answers 503, while
// a TLS block without its secret cannot be built and fails the snapshot, as
// an unreadable file does.

#include "config/yaml_reader.h"

namespace sluice::config {

void validateResourceReferences(const Config& cfg, ParseContext& ctx);

}  // namespace sluice::config
