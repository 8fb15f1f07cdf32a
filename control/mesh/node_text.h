#pragma once
// A YAML node as compact text for telling an unchanged part of the mesh
// from a changed one (the `source` of each part, model.h). Two nodes give
// the same text exactly when they hold the same tags, scalars, sequences
// and maps in the same order. Not YAML: YAML::Dump gave the same answer but
// ran yaml-cpp's emitter over the whole mesh on every reload, a seventh of a
// 2,000-workload reload's time.

#include <yaml-cpp/yaml.h>

#include <string>

namespace sluice::control::mesh {

std::string nodeText(const YAML::Node& node);

}  // namespace sluice::control::mesh
