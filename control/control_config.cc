#include "control/control_config.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <unordered_map>

#include "config/cluster_reader.h"
#include "config/document_limits.h"
#include "config/route_config.h"
#include "config/yaml_document.h"
#include "control/mesh/reader.h"
#include "control/snapshot_builder.h"

namespace sluice::control {
namespace {

using config::ConfigError;
using config::MapReader;
using config::ParseContext;

void readAddress(MapReader& top, std::string_view key, std::string& out) {
  const YAML::Node n = top.child(key);
  if (!n.IsDefined()) return;
  MapReader r(top.ctx(), n, std::string(key));
  if (!r.isMap()) return;
  ip::Address a;
  r.address("address", a, /*required=*/true);
  if (a.family() != 0) out = a.str();
  r.finish();
}

void readMatch(MapReader& g, GroupMatch& m) {
  const YAML::Node n = g.child("match");
  const std::string path = g.childPath("match");
  if (!n.IsDefined()) {
    g.ctx().error(g.node(), path, "missing required field");
    return;
  }
  MapReader r(g.ctx(), n, path);
  if (!r.isMap()) return;
  r.string("cluster", m.cluster);
  if (r.has("cluster") && m.cluster.empty())
    r.ctx().error(r.locOf("cluster"), r.childPath("cluster"), "must not be empty");
  r.forEachItem("node_ids", [&](const YAML::Node& item, const std::string& item_path) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      r.ctx().error(item, item_path, "expected a node id");
      return;
    }
    m.node_ids.push_back(item.Scalar());
  });
  if (r.has("node_ids") && r.child("node_ids").IsSequence() && m.node_ids.empty())
    r.ctx().error(r.locOf("node_ids"), r.childPath("node_ids"), "needs at least one node id");
  if (r.has("cluster") == r.has("node_ids")) r.ctx().error(n, path, "needs exactly one of 'cluster' or 'node_ids'");
  r.finish();
}

// Validation runs on the group's Config alone, where resources are
// "listeners[0]"; the file has them under "groups[N]". Paths the readers
// built already carry the prefix.
void validateGroup(const config::Config& cfg, const std::string& group_path, ParseContext& ctx) {
  ParseContext own(ctx.file());
  config::validateResources(cfg, own);
  for (const ConfigError& e : own.errors()) {
    std::string path = e.path;
    if (path.rfind(group_path, 0) != 0) path = path.empty() ? group_path : group_path + "." + path;
    ctx.error(config::SourceLoc{e.line, e.column}, path, e.message);
  }
}

// What proxyless gRPC clients refuse (gRPC's xDS client, A27/A28 and the
// cluster types it knows): checked here so that an edit is refused with a
// position instead of NACKed by every client.
void checkForGrpcClients(const config::Config& cfg, const std::string& group_path, ParseContext& ctx) {
  for (size_t i = 0; i < cfg.clusters.size(); ++i) {
    const auto& c = cfg.clusters[i];
    if (c.lb_policy != config::LbPolicy::RoundRobin && c.lb_policy != config::LbPolicy::RingHash)
      ctx.error(
          c.loc, group_path + ".clusters[" + std::to_string(i) + "].lb_policy",
          "gRPC clients take round_robin or ring_hash only, not " + std::string(config::lbPolicyName(c.lb_policy)));
  }
  for (const auto& entry : cfg.route_configs)
    for (size_t v = 0; v < entry.spec->virtual_hosts.size(); ++v)
      for (size_t k = 0; k < entry.spec->virtual_hosts[v].routes.size(); ++k) {
        const auto& route = entry.spec->virtual_hosts[v].routes[k];
        if (route.route) continue;
        // Paths the readers built already carry the group's prefix.
        const std::string base = entry.path.rfind(group_path, 0) == 0 ? entry.path : group_path + "." + entry.path;
        const std::string path = base + ".virtual_hosts[" + std::to_string(v) + "].routes[" + std::to_string(k) + "]";
        ctx.error(entry.loc, path,
                  std::string("gRPC clients fail calls on a ") + (route.redirect ? "redirect" : "direct_response") +
                      " route");
      }
}

void readGroups(MapReader& top, ControlConfig& out) {
  std::unordered_map<std::string, std::string> names;  // name -> path of first
  top.forEachItem("groups", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    if (!r.isMap()) return;
    GroupSpec g;
    config::readName(r, g.name);
    readMatch(r, g.match);
    auto cfg = std::make_shared<config::Config>();
    cfg->source_file = top.ctx().file();
    std::string clients = "any";
    r.string("clients", clients);
    if (clients != "any" && clients != "grpc")
      r.ctx().error(r.locOf("clients"), r.childPath("clients"), "must be any or grpc");
    g.grpc_clients = clients == "grpc";
    config::readResources(r, *cfg);
    r.finish();
    validateGroup(*cfg, path, top.ctx());
    if (g.grpc_clients) checkForGrpcClients(*cfg, path, top.ctx());
    if (!g.name.empty() && !names.emplace(g.name, path).second)
      r.ctx().error(r.locOf("name"), r.childPath("name"),
                    "duplicate group name '" + g.name + "' (first in " + names[g.name] + ")");
    g.input = YAML::Dump(item);
    g.config = std::move(cfg);
    out.groups.push_back(std::move(g));
  });
}

// The mesh, and a group per proxy computed from it (when it is valid).
void readMeshBlock(MapReader& top, ControlConfig& out, mesh::ProxyConfigCache* cache, const mesh::Mesh* discovered) {
  YAML::Node n = top.child("mesh");
  if (!n.IsDefined() && discovered == nullptr) return;
  if (!n.IsDefined()) n = YAML::Node(YAML::NodeType::Map);
  MapReader r(top.ctx(), n, "mesh");
  if (!r.isMap()) return;
  auto m = std::make_shared<mesh::Mesh>();
  // One trust domain: the CA's, which the mesh may repeat but not contradict.
  if (out.ca && !out.ca->trust_domain.empty()) {
    m->trust_domain = out.ca->trust_domain;
    if (r.has("trust_domain") && r.child("trust_domain").IsScalar() &&
        r.child("trust_domain").Scalar() != out.ca->trust_domain)
      top.ctx().error(r.locOf("trust_domain"), r.childPath("trust_domain"),
                      "differs from ca.trust_domain '" + out.ca->trust_domain + "'");
  }
  const size_t errors_before = top.ctx().errors().size();
  mesh::readMesh(r, *m, discovered, &out.shadowed);
  if (top.ctx().errors().size() != errors_before) return;
  out.mesh_proxies = mesh::computeProxyConfigs(*m, /*trust_bundle_pem=*/"", top.ctx(), cache);
  for (const auto& p : out.mesh_proxies) {
    for (const auto& g : out.groups)
      if (g.name == p.group)
        top.ctx().error(top.locOf("mesh"), "mesh", "proxy group '" + p.group + "' has the name of a group in groups:");
    GroupSpec g;
    g.name = p.group;
    g.match.mesh_node_id = p.node_id;
    g.config = p.config;
    g.input = p.yaml;
    // A gateway's certificates are named in the document, held in its
    // inline secrets: a rewritten file must change the group too.
    if (p.config)
      for (const auto& s : p.config->secrets)
        if (s.inline_pem)
          g.input += "# " + s.name + " " + contentVersion(s.cert_chain + s.private_key + s.trusted_ca) + "\n";
    out.groups.push_back(std::move(g));
  }
  out.mesh = std::move(m);
}

void build(const YAML::Node& root, ControlConfig& out, ParseContext& ctx, mesh::ProxyConfigCache* cache,
           const mesh::Mesh* discovered) {
  if (root.IsNull()) {
    ctx.error(root, "", "config is empty");
    return;
  }
  MapReader top(ctx, root, "");
  if (!top.isMap()) return;
  readAddress(top, "ads", out.ads_address);
  readAddress(top, "admin", out.admin_address);
  top.duration("debounce", out.debounce);
  top.duration("watch_interval", out.watch_interval);
  if (out.watch_interval <= config::Duration::zero())
    ctx.error(top.locOf("watch_interval"), "watch_interval", "must be greater than 0");
  readGroups(top, out);
  ca::readCaSpec(top, out.ca);
  kubernetes::readInjectionSpec(top, top.has("ca"), out.injection);
  // The injected sidecar's certificate agent dials the CA's port on the
  // host it reaches ADS on, unless injection.ca_address says otherwise.
  if (out.injection && out.injection->ca_address.empty()) {
    const std::string& ads = out.injection->ads_address;
    const std::string ca = out.ca ? out.ca->serving.address : ca::CaServing{}.address;
    out.injection->ca_address = ads.substr(0, ads.rfind(':')) + ca.substr(ca.rfind(':'));
  }
  kubernetes::readKubernetesSpec(top, out.kubernetes);
  // Discovery has not answered yet: its mesh is empty, not absent.
  static const mesh::Mesh kNothingDiscovered;
  if (out.kubernetes && discovered == nullptr) discovered = &kNothingDiscovered;
  readMeshBlock(top, out, cache, discovered);
  top.finish();
}

}  // namespace

bool GroupMatch::matches(std::string_view node_id, std::string_view node_cluster) const {
  if (!cluster.empty()) return node_cluster == cluster;
  if (!mesh_node_id.empty()) return node_id.substr(0, node_id.find('~')) == mesh_node_id;
  return std::find(node_ids.begin(), node_ids.end(), node_id) != node_ids.end();
}

std::string ControlConfig::groupFor(std::string_view node_id, std::string_view node_cluster) const {
  for (const auto& g : groups)
    if (g.match.matches(node_id, node_cluster)) return g.name;
  return {};
}

std::string ControlLoadResult::errorText() const {
  std::string s;
  for (const auto& e : errors) s += e.str() + "\n";
  return s;
}

ControlLoadResult loadControlString(const std::string& yaml_text, const std::string& file,
                                    mesh::ProxyConfigCache* cache, const mesh::Mesh* discovered) {
  ParseContext ctx(file);
  auto cfg = std::make_shared<ControlConfig>();
  cfg->file = file;
  try {
    const YAML::Node root = config::loadSingleDocument(yaml_text, ctx);
    if (config::checkExpandedSize(yaml_text, ctx) &&
        (!config::mayReferToEnv(yaml_text) || config::substituteEnv(root, ctx)))
      build(root, *cfg, ctx, cache, discovered);
  } catch (const YAML::Exception& e) {
    const bool known = !e.mark.is_null();
    ctx.error(config::SourceLoc{known ? e.mark.line + 1 : 0, known ? e.mark.column + 1 : 0}, "", e.msg);
  }
  ControlLoadResult result;
  if (ctx.ok()) {
    result.config = std::move(cfg);
    return result;
  }
  result.errors = ctx.errors();
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return result;
}

ControlLoadResult loadControlFile(const std::string& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  std::string text;
  int err = f == nullptr ? errno : 0;
  if (f != nullptr) {
    char buf[8192];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    if (std::ferror(f)) err = errno != 0 ? errno : EIO;  // EISDIR: fopen succeeds on a directory
    std::fclose(f);
  }
  if (err != 0) {
    ControlLoadResult result;
    result.errors.push_back(ConfigError{file, 0, 0, "", std::string("cannot read: ") + std::strerror(err)});
    return result;
  }
  return loadControlString(text, file);
}

}  // namespace sluice::control
