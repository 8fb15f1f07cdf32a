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
//     address: 127.0.0.1:15012          # CreateCertificate, over TLS; port 0 picks a free one
//     tls:                              # its serving certificate, issued by this CA (a fresh
//       dns_names: [localhost]          # P-256 key in memory) for these names and renewed at
//       ip_addresses: [127.0.0.1]       # half life; proxies verify it against the mesh root
//       certificate_ttl: 24h
//       cert_file: tls.crt              # or the operator's (both or neither), re-read when
//       key_file: tls.key               # they change
//     plaintext: false                  # true: no TLS; tokens cross the network in the clear
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

// Where CreateCertificate is served, and with which certificate. Without
// `tls:`, the names are localhost and 127.0.0.1.
struct CaServing {
  std::string address = "127.0.0.1:15012";
  bool plaintext = false;
  std::vector<std::string> dns_names{"localhost"};
  std::vector<std::string> ip_addresses{"127.0.0.1"};
  config::Duration certificate_ttl{std::chrono::hours(24)};
  std::optional<FileRef> cert_file, key_file;  // both or neither
  bool operator==(const CaServing&) const = default;
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
  CaServing serving;
  config::SourceLoc loc;  // the `ca:` block

  // What a running authority cannot take without a restart: its trust
  // domain and the keys it signs with. Empty when `next` keeps them, else
  // the path of the first that differs ("ca.trust_domain"). The port it
  // serves on and its certificate's source are read at start too.
  std::string restartNeededFor(const CaSpec& next) const;
};

// A DNS subdomain (RFC 1123): what a certificate's DNS name and a
// Service's name under .svc are.
bool isDnsName(const std::string& s);

// Shortest lifetime a certificate may be asked or configured for.
inline constexpr config::Duration kMinTtl = std::chrono::minutes(1);

// Reads `ca:` from the top-level map when present (errors into the
// reader's context); `out` stays empty when it is absent.
void readCaSpec(config::MapReader& top, std::optional<CaSpec>& out);

}  // namespace sluice::control::ca
