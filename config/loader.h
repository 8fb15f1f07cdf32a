#pragma once
// Loads and fully validates a config file. Either a complete Config or the
// list of every error found; never a partial config.

#include <memory>
#include <string>
#include <variant>

#include "config/model.h"
#include "config/yaml_reader.h"

namespace sluice::config {

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is non-empty
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;  // missing references under References::WarnAndServe
  std::string errorText() const;  // one error per line
};

// Reads FILE, parses YAML (syntax errors carry line/column), builds the model,
// runs every network filter's parser and cross-reference validation. A file
// takes References::Strict; the other setting is for resources that arrive
// piecemeal (xDS). The bootstrap's config_source names FILE.
LoadResult loadFile(const std::string& file, References refs = References::Strict);
// Same, from text (tests); `file` is used in messages.
LoadResult loadString(const std::string& yaml_text, const std::string& file = "<string>",
                      References refs = References::Strict);

// The pieces of a load, for readers of other documents that hold the same
// resources (sluice-control's groups) or assemble them another way (xDS).
// Reads `route_configs`, `listeners`, `clusters` (and the route tables and
// secrets given inline in them) from the mapping `r` into `cfg`. Leaves
// r.finish() to the caller, which may read keys of its own from `r`.
void readResources(MapReader& r, Config& cfg);
// Cross-reference and per-filter validation of a whole config, every error
// (or, under References::WarnAndServe, warning) into ctx.
void validateResources(const Config& cfg, ParseContext& ctx);

}  // namespace sluice::config
