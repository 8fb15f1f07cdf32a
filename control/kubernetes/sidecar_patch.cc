#include "control/kubernetes/sidecar_patch.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "control/kubernetes/json_fields.h"
#include "control/kubernetes/pod_identity.h"
#include "ip/cidr.h"

namespace sluice::control::kubernetes {
namespace {

using nlohmann::json;

json addOp(std::string path, json value) { return {{"op", "add"}, {"path", std::move(path)}, {"value", std::move(value)}}; }

// A comma-separated list from an annotation ("8080, 9090"); each item trimmed,
// empty items dropped.
std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.erase(item.begin());
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    if (!item.empty()) out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

std::optional<uint16_t> portNumber(const std::string& s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  const unsigned long n = std::stoul(s);
  if (n < 1 || n > 65535) return std::nullopt;
  return static_cast<uint16_t>(n);
}

// A probe's port: a number, or the name of one of the container's ports.
std::optional<uint16_t> resolvePort(const json& port, const json& container) {
  if (port.is_number_integer()) {
    const auto n = port.get<int64_t>();
    if (n >= 1 && n <= 65535) return static_cast<uint16_t>(n);
    return std::nullopt;
  }
  if (!port.is_string()) return std::nullopt;
  if (auto n = portNumber(port.get<std::string>())) return n;
  const json& ports = jsonAt(container, "ports");
  if (!ports.is_array()) return std::nullopt;
  for (const auto& p : ports)
    if (jsonString(p, "name") == port.get<std::string>() && jsonAt(p, "containerPort").is_number_integer()) {
      const auto n = jsonAt(p, "containerPort").get<int64_t>();
      if (n >= 1 && n <= 65535) return static_cast<uint16_t>(n);
    }
  return std::nullopt;
}

std::string joinPorts(const std::set<uint16_t>& ports) {
  std::string s;
  for (uint16_t p : ports) s += (s.empty() ? "" : ",") + std::to_string(p);
  return s;
}

// "${" starts an environment reference in a sluice config; a probe's path
// is the app's text and must reach the app as it is.
std::string literal(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') out += '$';
    out += s[i];
  }
  return out;
}

struct ProbeRoute {
  std::string prefix;  // /app-health/<container>/<kind>
  uint16_t port;
  std::string path;  // the app's
};

std::string renderBootstrap(const PodIdentity& id, const InjectionSpec& spec, const std::vector<ProbeRoute>& probes) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "admin" << YAML::Value << YAML::BeginMap << YAML::Key << "address" << YAML::Value
      << "127.0.0.1:" + std::to_string(kAdminPort) << YAML::EndMap;
  out << YAML::Key << "dynamic" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "ads" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "address" << YAML::Value << spec.ads_address;
  // One group per workload; "~<pod>" tells its pods apart in status.
  out << YAML::Key << "node" << YAML::Value << YAML::BeginMap << YAML::Key << "id" << YAML::Value
      << id.nodeId() + "~${POD_NAME}" << YAML::Key << "cluster" << YAML::Value << id.workload << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "ca" << YAML::Value << YAML::BeginMap;
  if (!spec.ca_address.empty()) out << YAML::Key << "address" << YAML::Value << spec.ca_address;
  if (spec.ca_root_pem.empty())
    out << YAML::Key << "plaintext" << YAML::Value << true;
  else
    out << YAML::Key << "root_pem" << YAML::Value << YAML::Literal << spec.ca_root_pem;
  out << YAML::Key << "token_file" << YAML::Value << kTokenPath << YAML::EndMap;
  out << YAML::EndMap;

  out << YAML::Key << "listeners" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "sluice-health";
  // The kubelet probes the pod's IP, IPv4 or IPv6: "[::]" listens on both.
  out << YAML::Key << "address" << YAML::Value << "[::]:" + std::to_string(kHealthPort);
  out << YAML::Key << "http" << YAML::Value << YAML::BeginMap << YAML::Key << "route_config" << YAML::Value
      << YAML::BeginMap << YAML::Key << "virtual_hosts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "health";
  out << YAML::Key << "domains" << YAML::Value << YAML::Flow << YAML::BeginSeq << "*" << YAML::EndSeq;
  out << YAML::Key << "routes" << YAML::Value << YAML::BeginSeq;
  out << YAML::Flow << YAML::BeginMap << YAML::Key << "match" << YAML::Value << YAML::BeginMap << YAML::Key << "path"
      << YAML::Value << "/ready" << YAML::EndMap << YAML::Key << "route" << YAML::Value << YAML::BeginMap
      << YAML::Key << "cluster" << YAML::Value << "sluice-admin" << YAML::EndMap << YAML::EndMap;
  std::set<uint16_t> ports;
  for (const auto& p : probes) {
    ports.insert(p.port);
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "match" << YAML::Value << YAML::BeginMap << YAML::Key
        << "prefix" << YAML::Value << p.prefix << YAML::EndMap;
    out << YAML::Key << "route" << YAML::Value << YAML::BeginMap << YAML::Key << "cluster"
        << YAML::Value << "sluice-app-" + std::to_string(p.port) << YAML::Key << "prefix_rewrite" << YAML::Value
        << YAML::DoubleQuoted << literal(p.path) << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap << YAML::EndSeq << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq;
  auto cluster = [&out](const std::string& name, uint16_t port) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name << YAML::Key
        << "connect_timeout" << YAML::Value << "1s" << YAML::Key << "endpoints" << YAML::Value << YAML::BeginSeq
        << YAML::BeginMap << YAML::Key << "address" << YAML::Value << "127.0.0.1:" + std::to_string(port)
        << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  };
  cluster("sluice-admin", kAdminPort);
  for (uint16_t p : ports) cluster("sluice-app-" + std::to_string(p), p);
  out << YAML::EndSeq << YAML::EndMap;
  return std::string("# The sluice sidecar's bootstrap, made by sluice-control's injection webhook for workload ") +
         id.workload + " in namespace " + id.namespace_name + ".\n" + out.c_str() + "\n";
}

json resources(const InjectionSpec& spec) {
  json r = json::object();
  auto put = [&r](const char* key, const ResourceQuantities& q) {
    json m = json::object();
    if (!q.cpu.empty()) m["cpu"] = q.cpu;
    if (!q.memory.empty()) m["memory"] = q.memory;
    if (!m.empty()) r[key] = std::move(m);
  };
  put("requests", spec.requests);
  put("limits", spec.limits);
  return r;
}

json initContainer(const InjectionSpec& spec, const std::set<uint16_t>& exclude_in, const std::set<uint16_t>& exclude_out,
                   const std::vector<std::string>& exclude_cidrs) {
  json cmd = {"sluice", "iptables", "--outbound-port", std::to_string(kOutboundPort), "--inbound-port",
              std::to_string(kInboundPort), "--proxy-uid", std::to_string(kProxyUid)};
  if (!exclude_in.empty()) cmd.insert(cmd.end(), {"--exclude-inbound-ports", joinPorts(exclude_in)});
  if (!exclude_out.empty()) cmd.insert(cmd.end(), {"--exclude-outbound-ports", joinPorts(exclude_out)});
  if (!exclude_cidrs.empty()) {
    std::string s;
    for (const auto& c : exclude_cidrs) s += (s.empty() ? "" : ",") + c;
    cmd.insert(cmd.end(), {"--exclude-outbound-cidrs", s});
  }
  return {{"name", kInitContainer},
          {"image", spec.init_image},
          {"imagePullPolicy", spec.image_pull_policy},
          {"command", std::move(cmd)},
          {"resources", resources(spec)},
          // Root with the two capabilities iptables needs, and nothing else;
          // runAsNonRoot: false overrides a pod-level true for this step only.
          {"securityContext",
           {{"runAsUser", 0},
            {"runAsGroup", 0},
            {"runAsNonRoot", false},
            {"privileged", false},
            {"allowPrivilegeEscalation", false},
            {"readOnlyRootFilesystem", true},
            {"capabilities", {{"add", {"NET_ADMIN", "NET_RAW"}}, {"drop", {"ALL"}}}}}},
          // The legacy iptables backend takes its lock file in /run
          // (xtables.lock), which a read-only root file system refuses: a
          // scratch /run of its own keeps the root read-only on such nodes.
          {"volumeMounts", {{{"name", kRunVolume}, {"mountPath", "/run"}}}}};
}

json fieldEnv(const char* name, const char* field) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", field}}}}}};
}

json readyProbe(int period, int failures) {
  return {{"httpGet", {{"path", "/ready"}, {"port", kHealthPort}, {"scheme", "HTTP"}}},
          {"periodSeconds", period},
          {"timeoutSeconds", 1},
          {"failureThreshold", failures}};
}

json proxyContainer(const InjectionSpec& spec) {
  json c = {{"name", kProxyContainer},
            {"image", spec.image},
            {"imagePullPolicy", spec.image_pull_policy},
            {"command", {"sluice", "-c", kBootstrapPath}}};
  if (spec.native_sidecar) c["restartPolicy"] = "Always";
  c["ports"] = {{{"name", "sluice-health"}, {"containerPort", kHealthPort}, {"protocol", "TCP"}}};
  c["env"] = {fieldEnv("POD_NAME", "metadata.name"), fieldEnv("POD_NAMESPACE", "metadata.namespace"),
              fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"), fieldEnv("INSTANCE_IP", "status.podIP")};
  c["readinessProbe"] = readyProbe(5, 3);
  // A native sidecar's startup probe holds the app's containers back until
  // the proxy answers (up to 10 minutes); a classic one cannot.
  if (spec.native_sidecar) c["startupProbe"] = readyProbe(1, 600);
  c["resources"] = resources(spec);
  c["securityContext"] = {{"runAsUser", kProxyUid},
                          {"runAsGroup", kProxyUid},
                          {"runAsNonRoot", true},
                          {"privileged", false},
                          {"allowPrivilegeEscalation", false},
                          {"readOnlyRootFilesystem", true},
                          {"capabilities", {{"drop", {"ALL"}}}}};
  c["volumeMounts"] = {{{"name", "sluice-bootstrap"}, {"mountPath", "/etc/sluice"}, {"readOnly", true}},
                       {{"name", "sluice-token"}, {"mountPath", "/var/run/secrets/sluice/tokens"}, {"readOnly", true}}};
  return c;
}

json volumes(const InjectionSpec& spec) {
  json bootstrap_item = {{"path", "bootstrap.yaml"},
                         {"fieldRef",
                          {{"apiVersion", "v1"},
                           {"fieldPath", std::string("metadata.annotations['") + kBootstrapAnnotation + "']"}}}};
  json bootstrap = {{"name", "sluice-bootstrap"}, {"downwardAPI", {{"items", json::array({bootstrap_item})}}}};
  json token_source = {{"serviceAccountToken",
                        {{"audience", spec.token_audience},
                         {"expirationSeconds", spec.token_expiration_seconds},
                         {"path", "token"}}}};
  json token = {{"name", "sluice-token"}, {"projected", {{"sources", json::array({token_source})}}}};
  json run = {{"name", kRunVolume}, {"emptyDir", {{"medium", "Memory"}, {"sizeLimit", "1Mi"}}}};
  return json::array({bootstrap, token, run});
}

SidecarPatch failed(std::string why) {
  SidecarPatch p;
  p.outcome = SidecarPatch::Outcome::Failed;
  p.reason = std::move(why);
  return p;
}

SidecarPatch skipped(std::string reason) {
  SidecarPatch p;
  p.outcome = SidecarPatch::Outcome::Skipped;
  p.reason = std::move(reason);
  return p;
}

bool ownsPort(uint16_t p) { return p == kOutboundPort || p == kInboundPort || p == kAdminPort || p == kHealthPort; }

// Adds `items` to the array at `path` of `parent[key]`: whole when absent,
// else each at `index` onward (or at the end when index < 0).
void addItems(json& ops, const json& parent, const char* key, const std::string& path, const json& items, int index) {
  const json& existing = jsonAt(parent, key);
  if (!existing.is_array()) {
    ops.push_back(addOp(path, items));
    return;
  }
  for (size_t i = 0; i < items.size(); ++i)
    ops.push_back(addOp(path + "/" + (index < 0 ? "-" : std::to_string(index + static_cast<int>(i))), items[i]));
}

}  // namespace

std::string pointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

SidecarPatch buildSidecarPatch(const json& pod, const InjectionSpec& spec, const std::string& request_namespace) {
  if (!pod.is_object()) return failed("the object is not a pod");
  const json& meta = jsonAt(pod, "metadata");
  const json& annotations = jsonAt(meta, "annotations");
  const json& podspec = jsonAt(pod, "spec");
  const json& containers = jsonAt(podspec, "containers");
  const json& init_containers = jsonAt(podspec, "initContainers");

  // The pod's own say: the label is what the webhook configuration's
  // objectSelector sees (a pod labelled "true" is sent from a namespace
  // without the injection label), the annotation what older manifests
  // carry. A pod sent here is injected unless either says "false".
  bool opted_out = false;
  for (auto [where, map] : {std::pair{"label", &jsonAt(meta, "labels")}, std::pair{"annotation", &annotations}}) {
    if (!jsonAt(*map, kInjectAnnotation).is_string()) continue;
    const std::string inject = jsonString(*map, kInjectAnnotation);
    if (inject != "true" && inject != "false")
      return failed(std::string(where) + " " + kInjectAnnotation + " must be \"true\" or \"false\", not \"" +
                    inject + "\"");
    opted_out = opted_out || inject == "false";
  }
  if (opted_out) return skipped("disabled");
  if (jsonAt(annotations, kStatusAnnotation).is_string()) return skipped("already_injected");
  for (const json* list : {&containers, &init_containers})
    if (list->is_array())
      for (const auto& c : *list)
        if (jsonString(c, "name") == kProxyContainer) return skipped("already_injected");
  if (jsonAt(podspec, "hostNetwork").is_boolean() && jsonAt(podspec, "hostNetwork").get<bool>()) return skipped("host_network");
  if (!containers.is_array() || containers.empty()) return failed("the pod has no containers");

  const PodIdentity id = podIdentity(pod, request_namespace);
  if (id.workload.empty()) return failed("cannot name the pod's workload (no controller, name or generateName)");

  SidecarPatch out;
  std::set<uint16_t> exclude_in(spec.exclude_inbound_ports.begin(), spec.exclude_inbound_ports.end());
  std::set<uint16_t> exclude_out(spec.exclude_outbound_ports.begin(), spec.exclude_outbound_ports.end());
  std::vector<std::string> exclude_cidrs = spec.exclude_outbound_cidrs;
  // The kubelet reaches the sidecar's health port on the pod's IP.
  exclude_in.insert(kHealthPort);
  for (auto [key, into] : {std::pair<const char*, std::set<uint16_t>*>{kExcludeInboundPortsAnnotation, &exclude_in},
                           {kExcludeOutboundPortsAnnotation, &exclude_out}}) {
    for (const auto& item : splitList(jsonString(annotations, key))) {
      const auto port = portNumber(item);
      if (!port) return failed(std::string("annotation ") + key + ": '" + item + "' is not a port (1 to 65535)");
      into->insert(*port);
    }
  }
  for (const auto& item : splitList(jsonString(annotations, kExcludeOutboundCidrsAnnotation))) {
    std::string why;
    if (!ip::Cidr::parse(item, &why))
      return failed(std::string("annotation ") + kExcludeOutboundCidrsAnnotation + ": '" + item +
                    "' is not a CIDR" + (why.empty() ? "" : ": " + why));
    if (std::find(exclude_cidrs.begin(), exclude_cidrs.end(), item) == exclude_cidrs.end()) exclude_cidrs.push_back(item);
  }

  // Probes, container by container.
  std::vector<ProbeRoute> routes;
  json probe_ops = json::array();
  for (size_t i = 0; i < containers.size(); ++i) {
    const json& c = containers[i];
    const std::string name = jsonString(c, "name");
    const json& ports = jsonAt(c, "ports");
    if (ports.is_array())
      for (const auto& p : ports)
        if (jsonAt(p, "containerPort").is_number_integer() &&
            ownsPort(static_cast<uint16_t>(jsonAt(p, "containerPort").get<int64_t>())))
          return failed("container " + name + " uses port " + std::to_string(jsonAt(p, "containerPort").get<int64_t>()) +
                        ", which the sidecar owns (15001, 15006, 15020 and 15021)");
    for (auto [kind, suffix] : {std::pair<const char*, const char*>{"livenessProbe", "livez"},
                                {"readinessProbe", "readyz"},
                                {"startupProbe", "startupz"}}) {
      const json& probe = jsonAt(c, kind);
      if (!probe.is_object()) continue;
      const std::string probe_path = "/spec/containers/" + std::to_string(i) + "/" + kind;
      const json& http = jsonAt(probe, "httpGet");
      std::optional<uint16_t> port;
      std::string why;
      if (http.is_object()) {
        port = resolvePort(jsonAt(http, "port"), c);
        const std::string scheme = jsonString(http, "scheme");
        if (port && spec.rewrite_probes && (scheme.empty() || scheme == "HTTP") && jsonString(http, "host").empty()) {
          const std::string prefix = "/app-health/" + name + "/" + suffix;
          std::string path = jsonString(http, "path");
          if (path.empty() || path.front() != '/') path = "/" + path;
          routes.push_back({prefix, *port, path});
          json moved = {{"path", prefix}, {"port", kHealthPort}, {"scheme", "HTTP"}};
          if (jsonAt(http, "httpHeaders").is_array()) moved["httpHeaders"] = jsonAt(http, "httpHeaders");
          probe_ops.push_back({{"op", "replace"}, {"path", probe_path + "/httpGet"}, {"value", std::move(moved)}});
          continue;
        }
        why = !spec.rewrite_probes ? "its httpGet " + std::string(kind) + " (rewrite_probes is off)"
                                   : "its " + (scheme.empty() ? std::string("HTTP") : scheme) + " httpGet " + kind +
                                         (jsonString(http, "host").empty() ? "" : " to another host");
      } else if (const json& tcp = jsonAt(probe, "tcpSocket"); tcp.is_object()) {
        port = resolvePort(jsonAt(tcp, "port"), c);
        why = std::string("its tcpSocket ") + kind;
      } else if (const json& grpc = jsonAt(probe, "grpc"); grpc.is_object()) {
        port = resolvePort(jsonAt(grpc, "port"), c);
        why = std::string("its grpc ") + kind;
      }
      if (!port || exclude_in.count(*port)) continue;
      exclude_in.insert(*port);
      out.warnings.push_back("sluice: port " + std::to_string(*port) + " of container " + name +
                             " is left out of inbound capture to keep " + why +
                             " working: its inbound traffic bypasses the sidecar (no mTLS)");
    }
  }

  out.bootstrap = renderBootstrap(id, spec, routes);
  json& ops = out.patch;
  if (!jsonAt(pod, "metadata").is_object()) {
    ops.push_back(addOp("/metadata", {{"annotations", {{kStatusAnnotation, "injected"}, {kBootstrapAnnotation, out.bootstrap}}}}));
  } else if (!annotations.is_object()) {
    ops.push_back(addOp("/metadata/annotations", {{kStatusAnnotation, "injected"}, {kBootstrapAnnotation, out.bootstrap}}));
  } else {
    ops.push_back(addOp("/metadata/annotations/" + pointerToken(kStatusAnnotation), "injected"));
    const std::string bootstrap_path = "/metadata/annotations/" + pointerToken(kBootstrapAnnotation);
    ops.push_back(jsonAt(annotations, kBootstrapAnnotation).is_null()
                      ? addOp(bootstrap_path, out.bootstrap)
                      : json{{"op", "replace"}, {"path", bootstrap_path}, {"value", out.bootstrap}});
  }
  for (auto& op : probe_ops) ops.push_back(std::move(op));
  addItems(ops, podspec, "volumes", "/spec/volumes", volumes(spec), -1);
  const json init = initContainer(spec, exclude_in, exclude_out, exclude_cidrs);
  if (spec.native_sidecar) {
    addItems(ops, podspec, "initContainers", "/spec/initContainers", json::array({init, proxyContainer(spec)}), 0);
  } else {
    addItems(ops, podspec, "initContainers", "/spec/initContainers", json::array({init}), 0);
    ops.push_back(addOp("/spec/containers/0", proxyContainer(spec)));
  }
  out.outcome = SidecarPatch::Outcome::Injected;
  return out;
}

}  // namespace sluice::control::kubernetes
