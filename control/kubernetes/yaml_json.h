#pragma once
// A Kubernetes manifest in YAML as the JSON the API server would hold:
// plain scalars typed by YAML 1.2's core schema (null, true/false, numbers),
// quoted ones always strings, maps and sequences as they are. JSON text is
// YAML too, so this reads either.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sluice::control::kubernetes {

// One document. False with `error` ("line 3, column 5: ...") when the text
// is not YAML or holds more than one document.
bool manifestToJson(std::string_view text, nlohmann::json& out, std::string& error);

}  // namespace sluice::control::kubernetes
