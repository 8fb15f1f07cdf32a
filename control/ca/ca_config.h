#pragma once
// control.yaml's optional `ca:` block: the mesh certificate authority, as
// plain data (read with the rest of the file, same errors, all or nothing).
//
//   ca:
//     trust_domain: cluster.local       # required; a SPIFFE trust domain
//     dir: ca-state                     # where a generated root is kept (created 0700)
//     root: {cert: root.pem, key: root.key}            # optional: the operator's root
//     intermediate: {cert: inter.pem, key: inter.key}  # optional: issue from this (needs root)
//     extra_roots: [old-root.pem]       # optional: trusted beside the root (rotation)
//     default_ttl: 24h                  # a request for 0 gets this
//     max_ttl: 24h                      # longer requests are clamped to this
//     token_keys: [keys/k1]             # HMAC keys of bootstrap tokens (at least one)
//
// Relative paths are taken from control.yaml's folder. Files are only
// named here; they are read (and checked) when the authority is built
// (control/ca/authority.h, control/ca/token_keys.h).

#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/yaml_reader.h"

namespace sluice::control::ca {

// A file the CA reads, and where the config names it (for errors).
struct FileRef {
  std::string path;  // resolved against control.yaml's folder
  config::SourceLoc loc;
  bool operator==(const FileRef& o) const { return path == o.path; }
};

struct CertKeyFiles {
  FileRef cert;
  FileRef key;  // a root's key may be left out when an intermediate issues
  bool operator==(const CertKeyFiles&) const = default;
};

struct CaSpec {
  std::string trust_domain;
  FileRef dir;  // default "ca-state"
  std::optional<CertKeyFiles> root;
  std::optional<CertKeyFiles> intermediate;
  std::vector<FileRef> extra_roots;
  config::Duration default_ttl{std::chrono::hours(24)};
  config::Duration max_ttl{std::chrono::hours(24)};
  std::vector<FileRef> token_keys;
  config::SourceLoc loc;  // the `ca:` block

  // What a running authority cannot take without a restart: its trust
  // domain and the keys it signs with. Empty when `next` keeps them, else
  // the path of the first that differs ("ca.trust_domain").
  std::string restartNeededFor(const CaSpec& next) const;
};

// Shortest lifetime a certificate may be asked or configured for.
inline constexpr config::Duration kMinTtl = std::chrono::minutes(1);

// Reads `ca:` from the top-level map when present (errors into the
// reader's context); `out` stays empty when it is absent.
void readCaSpec(config::MapReader& top, std::optional<CaSpec>& out);

}  // namespace sluice::control::ca
