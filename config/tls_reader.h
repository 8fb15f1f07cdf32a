#pragma once
// Reads the TLS blocks of the config: `tls:` on a listener or a filter chain
// (termination), `match:` of a filter chain, and `tls:` on a cluster
// (origination). Paths are checked for readability here so `sluice
// validate` names a missing file with its line, then lifted into named
// secrets (ParseContext::inlineSecrets, named as SecretSpec says) that the
// block names; the contents are read by the certificate sources
// (proxy/tls/certificate_source.h).

#include "config/yaml_reader.h"

namespace sluice::config {

// `allow_mode`: only the listener shorthand takes `mode` (a filter chain says
// the same with its match).
void readDownstreamTls(MapReader& parent, std::string_view key, std::optional<DownstreamTlsConfig>& out,
                       bool allow_mode);
void readFilterChainMatch(MapReader& parent, std::string_view key, FilterChainMatch& out);
void readUpstreamTls(MapReader& parent, std::string_view key, std::optional<UpstreamTlsConfig>& out);

}  // namespace sluice::config
