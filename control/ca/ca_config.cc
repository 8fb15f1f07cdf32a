#include "control/ca/ca_config.h"

#include "identity/spiffe_id.h"

namespace sluice::control::ca {
namespace {

using config::MapReader;

// "deploy/control.yaml" -> "deploy/"; "control.yaml" -> "".
std::string folderOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash + 1);
}

std::string resolved(const std::string& base, const std::string& path) {
  return path.empty() || path.front() == '/' ? path : base + path;
}

bool readFile(MapReader& r, std::string_view key, FileRef& out, bool required) {
  if (!r.has(key)) {
    if (required) r.ctx().error(r.node(), r.childPath(key), "missing required field");
    r.child(key);
    return false;
  }
  std::string path;
  r.string(key, path);
  if (!r.child(key).IsScalar()) return false;
  if (path.empty()) {
    r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
    return false;
  }
  out = FileRef{resolved(folderOf(r.ctx().file()), path), r.locOf(key)};
  return true;
}

std::optional<CertKeyFiles> readPair(MapReader& ca, std::string_view key, bool key_required) {
  const YAML::Node n = ca.child(key);
  if (!n.IsDefined()) return std::nullopt;
  MapReader r(ca.ctx(), n, ca.childPath(key));
  if (!r.isMap()) return std::nullopt;
  CertKeyFiles files;
  readFile(r, "cert", files.cert, true);
  readFile(r, "key", files.key, key_required);
  r.finish();
  return files;
}

void readFileList(MapReader& ca, std::string_view key, std::vector<FileRef>& out) {
  const std::string base = folderOf(ca.ctx().file());
  ca.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      ca.ctx().error(item, path, "expected a file path");
      return;
    }
    out.push_back(FileRef{resolved(base, item.Scalar()), config::locOf(item)});
  });
}

}  // namespace

std::string CaSpec::restartNeededFor(const CaSpec& next) const {
  if (trust_domain != next.trust_domain) return "ca.trust_domain";
  if (dir.path != next.dir.path) return "ca.dir";
  if (root != next.root) return "ca.root";
  if (intermediate != next.intermediate) return "ca.intermediate";
  return {};
}

void readCaSpec(MapReader& top, std::optional<CaSpec>& out) {
  const YAML::Node n = top.child("ca");
  if (!n.IsDefined()) return;
  MapReader r(top.ctx(), n, "ca");
  if (!r.isMap()) return;
  CaSpec spec;
  spec.loc = config::locOf(n);
  r.string("trust_domain", spec.trust_domain, /*required=*/true);
  if (r.has("trust_domain") && r.child("trust_domain").IsScalar()) {
    std::string why;
    const auto id = identity::parseSpiffeId("spiffe://" + spec.trust_domain, &why, /*allow_bare_trust_domain=*/true);
    if (!id || !id->path.empty())
      r.ctx().error(r.locOf("trust_domain"), "ca.trust_domain",
                    "'" + spec.trust_domain + "' is not a SPIFFE trust domain" + (why.empty() ? "" : ": " + why));
  }
  spec.dir = FileRef{resolved(folderOf(top.ctx().file()), "ca-state"), spec.loc};
  readFile(r, "dir", spec.dir, false);
  spec.intermediate = readPair(r, "intermediate", /*key_required=*/true);
  // An offline root signs the intermediate; only the intermediate's key is needed here.
  spec.root = readPair(r, "root", /*key_required=*/!r.has("intermediate"));
  if (spec.intermediate && !r.has("root"))
    r.ctx().error(r.locOf("intermediate"), "ca.intermediate", "needs 'root' (the root it chains to)");
  readFileList(r, "extra_roots", spec.extra_roots);
  r.duration("default_ttl", spec.default_ttl);
  r.duration("max_ttl", spec.max_ttl);
  for (const char* key : {"default_ttl", "max_ttl"}) {
    const config::Duration d = std::string_view(key) == "max_ttl" ? spec.max_ttl : spec.default_ttl;
    if (d < kMinTtl) r.ctx().error(r.locOf(key), r.childPath(key), "must be at least 1m");
  }
  if (spec.default_ttl > spec.max_ttl && spec.default_ttl >= kMinTtl && spec.max_ttl >= kMinTtl)
    r.ctx().error(r.locOf("default_ttl"), "ca.default_ttl", "must not exceed max_ttl");
  readFileList(r, "token_keys", spec.token_keys);
  if (spec.token_keys.empty() && !(r.has("token_keys") && !r.child("token_keys").IsSequence()))
    r.ctx().error(r.has("token_keys") ? r.locOf("token_keys") : config::locOf(n), "ca.token_keys",
                  "needs at least one key file (bootstrap tokens are signed with it)");
  r.finish();
  out = std::move(spec);
}

}  // namespace sluice::control::ca
