#pragma once
// Parsing the text of a config file, which must hold one YAML document.
//
// Not YAML::LoadAll: in yaml-cpp 0.7 it never returns on some malformed
// input (a line holding just ","): its parser reports an empty document
// without consuming the token, again and again, keeping each one, until
// memory runs out. Found by the config_loader fuzz target.

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/yaml_reader.h"

namespace sluice::config {

// The first document of `text` (a null node when there is none). A second
// document is an error at its first node. YAML syntax errors throw
// YAML::Exception, as YAML::Load does.
YAML::Node loadSingleDocument(const std::string& text, ParseContext& ctx);

}  // namespace sluice::config
