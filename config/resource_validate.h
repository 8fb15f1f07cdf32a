#pragma once
// References between resources that a file gives inline and the reader
// lifts into named resources of their own: a cluster's load assignment (its
// endpoints). Read from YAML they are always there; a source whose resources
// arrive one by one (xDS) may name one it has not delivered yet. A missing
// one goes through ParseContext::missingReference: an error naming the
// referring block's file:line:col for a file, a warning under
// References::WarnAndServe, where a cluster without its load assignment has
// no hosts and answers 503.

#include "config/yaml_reader.h"

namespace sluice::config {

void validateResourceReferences(const Config& cfg, ParseContext& ctx);

}  // namespace sluice::config
