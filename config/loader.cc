#include "config/loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "config/ca_root.h"
#include "config/cluster_reader.h"
#include "config/document_limits.h"
#include "config/overload.h"
#include "config/resource_validate.h"
#include "config/route_config.h"
#include "config/tls_reader.h"
#include "config/yaml_document.h"

namespace sluice::config {
namespace {

constexpr std::string_view kListenerFields[] = {
    "name", "address",       "max_connections", "per_connection_buffer_limit_bytes",
    "tls",  "filter_chains", "use_original_dst"};
constexpr std::string_view kChainFields[] = {"match", "tls"};

std::string indexed(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// A chain's filters are the keys of its map (the listener's, or a
// filter_chains item's) that name a registered network filter, in document
// order; exactly one is terminal and it comes last. `other_fields` are the
// map's own keys. With `required` false, no filters at all is fine.
template <size_t N>
void readFilters(MapReader& r, std::vector<NetworkFilterEntry>& out, const std::string_view (&other_fields)[N],
                 const char* what, bool required = true) {
  std::vector<std::string> seen;
  std::string terminal;
  for (auto it = r.node().begin(); it != r.node().end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string key = it->first.Scalar();
    if (std::find(std::begin(other_fields), std::end(other_fields), key) != std::end(other_fields)) continue;
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;  // duplicate key, reported already
    const auto* reader = findNetworkFilterReader(key);
    if (reader == nullptr) continue;  // left for finish(): "unknown field"
    seen.push_back(key);
    const std::string path = r.childPath(key);
    if (!terminal.empty()) {
      r.ctx().error(it->first, path,
                    reader->terminal() ? "listener has more than one terminal network filter ('" + terminal + "')"
                                       : "network filter must come before the terminal filter '" + terminal + "'");
    }
    if (reader->terminal()) terminal = key;
    MapReader fr(r.ctx(), r.child(key), path);
    if (!fr.isMap()) continue;
    out.push_back(NetworkFilterEntry{key, reader, reader->read(fr)});
  }
  if (terminal.empty() && (required || !seen.empty()))
    r.ctx().error(r.node(), r.path(), std::string(what) + " needs a terminal network filter (tcp_proxy)");
}

// A TLS chain that names no ALPN offers what its terminal filter speaks
// (an `http` filter with codec auto: h2, then http/1.1).
void defaultAlpn(std::optional<DownstreamTlsConfig>& tls, const std::vector<NetworkFilterEntry>& filters) {
  if (!tls || !tls->alpn_from_filter || filters.empty() || !filters.back().spec) return;
  auto protocols = filters.back().spec->applicationProtocols();
  if (!protocols.empty()) tls->alpn = std::move(protocols);
}

void readFilterChains(MapReader& r, ListenerConfig& l) {
  r.forEachItem("filter_chains", [&](const YAML::Node& item, const std::string& path) {
    MapReader cr(r.ctx(), item, path);
    if (!cr.isMap()) {
      r.ctx().error(item, path, "expected a mapping");
      return;
    }
    FilterChainConfig c;
    c.loc = locOf(item);
    r.ctx().setScopeName(l.name + "." + std::to_string(l.filter_chains.size()));
    readFilterChainMatch(cr, "match", c.match);
    readDownstreamTls(cr, "tls", c.tls, /*allow_mode=*/false);
    // A chain that terminates TLS takes TLS clients only, so a plaintext
    // client never reaches a handshake it cannot do.
    if (c.tls) {
      if (c.match.transport_protocol == FilterChainMatch::Transport::RawBuffer)
        r.ctx().error(cr.locOf("match"), cr.childPath("match") + ".transport_protocol",
                      "a chain with tls cannot match raw_buffer");
      c.match.transport_protocol = FilterChainMatch::Transport::Tls;
    }
    readFilters(cr, c.filters, kChainFields, "filter chain");
    defaultAlpn(c.tls, c.filters);
    cr.finish();
    l.filter_chains.push_back(std::move(c));
  });
  if (r.child("filter_chains").IsSequence() && r.child("filter_chains").size() == 0)
    r.ctx().error(r.child("filter_chains"), r.childPath("filter_chains"), "needs at least one filter chain");
}

void readListeners(MapReader& top, Config& cfg) {
  std::unordered_map<std::string, std::string> names;      // name -> path of first
  std::unordered_map<std::string, std::string> addresses;  // address -> listener name
  top.forEachItem("listeners", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    if (!r.isMap()) return;
    ListenerConfig l;
    l.loc = locOf(item);
    readName(r, l.name);
    r.address("address", l.address, /*required=*/true);
    r.uint32("max_connections", l.max_connections, 0, UINT32_MAX);
    r.uint32("per_connection_buffer_limit_bytes", l.per_connection_buffer_limit_bytes, 1024, 64u << 20);
    r.boolean("use_original_dst", l.use_original_dst);
    if (r.has("filter_chains")) {
      readFilterChains(r, l);
      // Filters or tls beside filter_chains would be silently ignored: refuse them.
      std::vector<NetworkFilterEntry> stray;
      readFilters(r, stray, kListenerFields, "listener", /*required=*/false);
      if (r.has("tls")) r.child("tls");  // reported below, not as unknown
      if (!stray.empty() || r.has("tls"))
        r.ctx().error(r.locOf("filter_chains"), r.childPath("filter_chains"),
                      "a listener with filter_chains takes its tls and network filters inside each chain");
    } else {
      readDownstreamTls(r, "tls", l.tls, /*allow_mode=*/true);
      r.ctx().setScopeName(l.name);
      readFilters(r, l.filters, kListenerFields, "listener");
      defaultAlpn(l.tls, l.filters);
    }
    r.ctx().setScopeName("");
    r.finish();

    if (!l.name.empty() && !names.emplace(l.name, path).second)
      r.ctx().error(r.locOf("name"), r.childPath("name"),
                    "duplicate listener name '" + l.name + "' (first in " + names[l.name] + ")");
    // Port 0 asks the kernel for a fresh port, so those never collide.
    if (l.address.family() != 0 && l.address.port() != 0 && !addresses.emplace(l.address.str(), l.name).second)
      r.ctx().error(r.locOf("address"), r.childPath("address"),
                    "address " + l.address.str() + " already used by listener '" + addresses[l.address.str()] + "'");
    cfg.listeners.push_back(std::move(l));
  });
}

// Top-level `route_configs`: route tables by name, for `route_config_name`.
void readRouteConfigs(MapReader& top, Config& cfg) {
  top.forEachItem("route_configs", [&](const YAML::Node& item, const std::string& path) {
    MapReader r(top.ctx(), item, path);
    if (!r.isMap()) {
      top.ctx().error(item, path, "expected a mapping");
      return;
    }
    RouteConfigEntry e;
    e.loc = locOf(item);
    e.path = path;
    readName(r, e.name);
    e.spec = readRouteConfig(r);
    cfg.route_configs.push_back(std::move(e));
  });
}

// Inline tables join the named ones; a name is one table.
void addInlineRouteConfigs(Config& cfg, ParseContext& ctx) {
  for (auto& e : ctx.inlineRouteConfigs()) cfg.route_configs.push_back(std::move(e));
  ctx.inlineRouteConfigs().clear();
  std::unordered_map<std::string, std::string> names;  // name -> path of first
  for (const auto& e : cfg.route_configs) {
    if (e.name.empty() || names.emplace(e.name, e.path).second) continue;
    ctx.error(
        e.loc, e.path + ".name",
        "duplicate route config name '" + e.name + "' (first in " + names[e.name] + "); give it a name: of its own");
  }
}

// Secrets lifted from TLS blocks join the config's; being named after their
// files, one name is one secret however many blocks use it.
void addInlineSecrets(Config& cfg, ParseContext& ctx) {
  for (auto& s : ctx.inlineSecrets())
    if (cfg.findSecret(s.name) == nullptr) cfg.secrets.push_back(std::move(s));
  ctx.inlineSecrets().clear();
}

void readNode(MapReader&& r, NodeConfig& node) {
  r.string("id", node.id);
  r.string("cluster", node.cluster);
  if (const YAML::Node loc = r.child("locality"); loc.IsDefined()) {
    MapReader lr(r.ctx(), loc, r.childPath("locality"));
    lr.string("region", node.locality.region);
    lr.string("zone", node.locality.zone);
    lr.string("sub_zone", node.locality.sub_zone);
    lr.finish();
  }
  r.finish();
}

// One field of the ADS node against the top-level `node:` one: a proxy has
// one identity, so the two may both give a field only when they agree.
void mergeNodeField(ParseContext& ctx, SourceLoc loc, const std::string& path, const std::string& top_value,
                    std::string& value) {
  if (value.empty()) {
    value = top_value;
  } else if (!top_value.empty() && top_value != value) {
    ctx.error(loc, path, "'" + value + "' differs from the top-level node's '" + top_value + "' (give it once)");
  }
}

// `dynamic: {ads: {address, node, initial_fetch_timeout, delta}}`: the
// resources come from an ADS stream, beside this file's static ones; with
// `delta: true` over incremental xDS (DeltaAggregatedResources), else state
// of the world.
bool validHostPort(const std::string& address) {
  const auto colon = address.rfind(':');
  const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
  const bool numeric = !port.empty() && port.size() <= 5 &&
                       std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
  return colon != 0 && numeric && std::stoul(port) != 0 && std::stoul(port) <= 65535;
}

// The mesh roots of `dynamic.ca` (config/ca_root.h): root_pem, or
// root_file (read here for the error, and by the agent at every call); one
// of them or plaintext: true must be there, so a CA call never goes out
// unverified by accident. None for plaintext.
std::optional<SecretSpec> readCaRoots(MapReader& r) {
  ParseContext& ctx = r.ctx();
  SecretSpec root;
  root.name = kCaRootSecretName;
  root.kind = SecretSpec::Kind::ValidationContext;
  std::string pem, file;
  bool plaintext = false;
  r.string("root_pem", pem);
  r.string("root_file", file);
  r.boolean("plaintext", plaintext);
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  if (r.has("root_pem") && pem.find(kBegin) == std::string::npos)
    ctx.error(r.locOf("root_pem"), "dynamic.ca.root_pem", "expected PEM certificates (" + std::string(kBegin) + ")");
  if (r.has("root_file")) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in)
      ctx.error(r.locOf("root_file"), "dynamic.ca.root_file", "cannot read '" + file + "': " + std::strerror(errno));
    else if (text.str().find(kBegin) == std::string::npos)
      ctx.error(r.locOf("root_file"), "dynamic.ca.root_file", "'" + file + "' holds no PEM certificate");
  }
  const bool has_root = r.has("root_pem") || r.has("root_file");
  if (r.has("root_pem") && r.has("root_file"))
    ctx.error(r.locOf("root_file"), "dynamic.ca.root_file", "give root_file or root_pem, not both");
  if (plaintext && has_root)
    ctx.error(r.locOf("plaintext"), "dynamic.ca.plaintext", "plaintext: true verifies nothing: drop it or the root");
  else if (!plaintext && !has_root)
    ctx.error(r.node(), "dynamic.ca",
              "needs root_file or root_pem (the mesh root the CA's serving certificate chains to), or plaintext: "
              "true (the token then crosses the network in the clear)");
  if (plaintext || !has_root) return std::nullopt;
  root.inline_pem = r.has("root_pem");
  root.trusted_ca = root.inline_pem ? pem : file;
  return root;
}

// `dynamic: {ca: {address, root_file, root_pem, plaintext, token_file, ttl,
// secret_name}}`: the certificate agent, and its roots.
void readCa(ParseContext& ctx, const YAML::Node& node, Bootstrap& b, std::optional<SecretSpec>& root) {
  MapReader r(ctx, node, "dynamic.ca");
  if (!r.isMap()) {
    ctx.error(node, "dynamic.ca", "expected a mapping");
    return;
  }
  CaSpec spec;
  spec.loc = locOf(node);
  r.string("address", spec.address, /*required=*/true);
  if (r.has("address") && !validHostPort(spec.address))
    ctx.error(r.locOf("address"), "dynamic.ca.address", "expected host:port, got '" + spec.address + "'");
  root = readCaRoots(r);
  r.string("token_file", spec.token_file, /*required=*/true);
  if (r.has("token_file") && spec.token_file.empty())
    ctx.error(r.locOf("token_file"), "dynamic.ca.token_file", "must not be empty");
  r.duration("ttl", spec.ttl);
  if (spec.ttl < std::chrono::seconds(2))
    ctx.error(r.locOf("ttl"), "dynamic.ca.ttl", "must be at least 2s (the certificate is renewed at half of it)");
  r.string("secret_name", spec.secret_name);
  if (spec.secret_name.empty()) ctx.error(r.locOf("secret_name"), "dynamic.ca.secret_name", "must not be empty");
  r.finish();
  b.ca = std::move(spec);
}

void readAds(MapReader& top, const YAML::Node& ads, Bootstrap& b) {
  ParseContext& ctx = top.ctx();
  MapReader r(ctx, ads, "dynamic.ads");
  if (!r.isMap()) return;
  AdsSpec spec;
  r.string("address", spec.address, /*required=*/true);
  if (!spec.address.empty() && !validHostPort(spec.address))
    ctx.error(r.locOf("address"), "dynamic.ads.address", "expected host:port, got '" + spec.address + "'");
  NodeConfig node;
  const bool has_node = r.has("node");
  const SourceLoc node_loc = r.locOf("node");
  if (const YAML::Node n = r.child("node"); n.IsDefined()) readNode(MapReader(ctx, n, "dynamic.ads.node"), node);
  r.duration("initial_fetch_timeout", spec.initial_fetch_timeout);
  r.boolean("delta", spec.delta);
  if (spec.initial_fetch_timeout <= Duration::zero())
    ctx.error(r.locOf("initial_fetch_timeout"), "dynamic.ads.initial_fetch_timeout", "must be greater than 0");
  r.finish();
  if (has_node) {
    const std::string p = "dynamic.ads.node.";
    mergeNodeField(ctx, node_loc, p + "id", b.node.id, node.id);
    mergeNodeField(ctx, node_loc, p + "cluster", b.node.cluster, node.cluster);
    mergeNodeField(ctx, node_loc, p + "locality.region", b.node.locality.region, node.locality.region);
    mergeNodeField(ctx, node_loc, p + "locality.zone", b.node.locality.zone, node.locality.zone);
    mergeNodeField(ctx, node_loc, p + "locality.sub_zone", b.node.locality.sub_zone, node.locality.sub_zone);
    b.node = node;
  }
  if (b.node.id.empty())
    ctx.error(has_node ? node_loc : top.locOf("dynamic"), "dynamic.ads.node.id",
              "an ADS client needs a node id (here or in the top-level node)");
  b.config_source.kind = ConfigSourceSpec::Kind::Ads;
  b.config_source.ads = std::move(spec);
}

void readDynamic(MapReader& top, Config& cfg) {
  Bootstrap& b = cfg.bootstrap;
  const YAML::Node dyn = top.child("dynamic");
  if (!dyn.IsDefined()) return;
  ParseContext& ctx = top.ctx();
  MapReader dr(ctx, dyn, "dynamic");
  if (!dr.isMap()) return;
  const YAML::Node ads = dr.child("ads");
  const YAML::Node ca = dr.child("ca");
  if (!ads.IsDefined() && !ca.IsDefined()) ctx.error(dyn, "dynamic", "needs ads or ca");
  dr.finish();
  if (ads.IsDefined()) readAds(top, ads, b);
  std::optional<SecretSpec> root;
  if (ca.IsDefined()) readCa(ctx, ca, b, root);
  if (root) cfg.secrets.push_back(std::move(*root));
}

// Certificate provider instances are what sluice-control serves proxyless
// gRPC clients (its groups read clusters without this check); the proxy
// has no provider plugins, and a TLS block it cannot build must not start.
void refuseCertificateProviders(const Config& cfg, ParseContext& ctx) {
  for (size_t i = 0; i < cfg.clusters.size(); ++i) {
    const auto& tls = cfg.clusters[i].tls;
    if (!tls || !tls->usesCertificateProviders()) continue;
    const char* key = tls->ca_certificate_provider_instance.empty() ? "certificate_provider_instance"
                                                                    : "ca_certificate_provider_instance";
    ctx.error(tls->loc, indexed("clusters", i) + ".tls." + key,
              "Sluice has no certificate provider plugins (instances are for proxyless gRPC clients of "
              "sluice-control): give ca_bundle, cert_chain and private_key, or certificate_secret");
  }
}

void build(const YAML::Node& root, Config& cfg, ParseContext& ctx) {
  if (root.IsNull()) {
    ctx.error(root, "", "config is empty");
    return;
  }
  MapReader top(ctx, root, "");
  if (!top.isMap()) return;
  if (const YAML::Node admin = top.child("admin"); admin.IsDefined()) {
    MapReader r(ctx, admin, "admin");
    r.address("address", cfg.bootstrap.admin.address);
    r.finish();
  }
  Bootstrap& b = cfg.bootstrap;
  top.uint32("workers", b.workers, 0, 256);
  top.duration("drain_timeout", b.drain_timeout);
  top.duration("certificate_watch_interval", b.certificate_watch_interval);
  if (const YAML::Node node = top.child("node"); node.IsDefined()) readNode(MapReader(ctx, node, "node"), b.node);
  readDynamic(top, cfg);
  readOverload(top, b.overload);
  if (b.certificate_watch_interval <= Duration::zero())
    ctx.error(top.locOf("certificate_watch_interval"), "certificate_watch_interval", "must be greater than 0");
  readResources(top, cfg);
  top.finish();
  refuseCertificateProviders(cfg, ctx);
  validateResources(cfg, ctx);
}

}  // namespace

void readResources(MapReader& r, Config& cfg) {
  ParseContext& ctx = r.ctx();
  readRouteConfigs(r, cfg);
  readListeners(r, cfg);
  addInlineRouteConfigs(cfg, ctx);
  readClusters(r, cfg);
  addInlineSecrets(cfg, ctx);
}

// Cross references need the whole model, so they run last. Each HTTP
// listener checks its route table against its filters; every table, used
// or not, against the clusters; every cluster its load assignment, every
// TLS block its secrets.
void validateResources(const Config& cfg, ParseContext& ctx) {
  validateResourceReferences(cfg, ctx);
  for (const auto& e : cfg.route_configs)
    if (e.spec) validateRouteConfig(*e.spec, cfg, e.path, ctx, {}, /*check_chain=*/false);
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    cfg.listeners[i].forEachFilter([&](const NetworkFilterEntry& f, const std::string& suffix) {
      if (f.spec == nullptr) return;
      f.reader->validate(*f.spec, cfg, indexed("listeners", i) + suffix, ctx);
    });
  }
}

std::string LoadResult::errorText() const {
  std::string s;
  for (const auto& e : errors) s += e.str() + "\n";
  return s;
}

LoadResult loadString(const std::string& yaml_text, const std::string& file, References refs) {
  ParseContext ctx(file, refs);
  auto cfg = std::make_shared<Config>();
  cfg->source_file = file;
  // The text is what `file` holds: that file is where later configs come from.
  cfg->bootstrap.config_source = {ConfigSourceSpec::Kind::File, file};
  try {
    const YAML::Node root = loadSingleDocument(yaml_text, ctx);
    // Unset variables would only reappear as follow-on errors in the fields
    // that hold them: report them alone. Both walks come after the size
    // check, which keeps an alias bomb from making them endless.
    if (checkExpandedSize(yaml_text, ctx) && (!mayReferToEnv(yaml_text) || substituteEnv(root, ctx)))
      build(root, *cfg, ctx);
  } catch (const YAML::Exception& e) {
    const bool known = !e.mark.is_null();
    ctx.error(SourceLoc{known ? e.mark.line + 1 : 0, known ? e.mark.column + 1 : 0}, "", e.msg);
  }

  LoadResult result;
  result.warnings = ctx.warnings();
  if (ctx.ok()) {
    result.config = std::move(cfg);
    return result;
  }
  result.errors = ctx.errors();
  // Readers run field by field and cross references last; report in file order.
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return result;
}

LoadResult loadFile(const std::string& file, References refs) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  std::string text;
  int err = f == nullptr ? errno : 0;
  if (f != nullptr) {
    char buf[8192];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    if (std::ferror(f)) err = errno != 0 ? errno : EIO;  // e.g. EISDIR: fopen succeeds on a directory
    std::fclose(f);
  }
  if (err != 0) {
    LoadResult result;
    result.errors.push_back(ConfigError{file, 0, 0, "", std::string("cannot read: ") + std::strerror(err)});
    return result;
  }
  return loadString(text, file, refs);
}

}  // namespace sluice::config
