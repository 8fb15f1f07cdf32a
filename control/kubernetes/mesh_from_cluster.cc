#include "control/kubernetes/mesh_from_cluster.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "control/kubernetes/json_fields.h"
#include "control/kubernetes/pod_identity.h"

namespace sluice::control::kubernetes {
namespace {

using nlohmann::json;

mesh::Labels labelsOf(const json& meta) {
  mesh::Labels out;
  const json& labels = jsonAt(meta, "labels");
  if (labels.is_object())
    for (const auto& [k, v] : labels.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

const std::map<std::string, json>& objectsOf(const ClusterObjects& objects, const char* resource) {
  static const std::map<std::string, json> none;
  const auto it = objects.find(resource);
  return it == objects.end() ? none : it->second;
}

// A field separator no Kubernetes name or label holds.
constexpr char kSep = '\x1f';

std::string workloadSource(const mesh::Workload& w) {
  std::string s = "kubernetes workload" + std::string(1, kSep) + w.ns + kSep + w.name + kSep + w.service_account;
  for (const auto& [k, v] : w.labels) s += kSep + k + "=" + v;
  return s + kSep + (w.captured ? "captured" : "");
}

std::string serviceSource(const mesh::Service& svc) {
  std::string s = "kubernetes service" + std::string(1, kSep) + svc.ns + kSep + svc.name;
  for (const auto& p : svc.ports)
    s += kSep + std::to_string(p.port) + "/" + p.name + "/" + std::string(mesh::protocolName(p.protocol));
  for (const auto& a : svc.addresses) s += kSep + a;
  for (const auto& e : svc.endpoints)
    s += kSep + e.address.str() + "@" + std::to_string(e.port) + "/" + e.workload + "/" + std::to_string(e.weight);
  return s;
}

// A pod is in the mesh when it runs a sidecar: the injection webhook marks
// it (sluice.io/status), or it names its sidecar container as the webhook
// does. Others are outside: their endpoints are called in plaintext and they
// get no config (a pod in kube-system, a namespace not labelled for
// injection, an opted-out pod).
bool hasSidecar(const json& pod) {
  if (jsonString(jsonAt(jsonAt(pod, "metadata"), "annotations"), "sluice.io/status") == "injected") return true;
  for (const char* list : {"initContainers", "containers"}) {
    const json& containers = jsonAt(jsonAt(pod, "spec"), list);
    if (!containers.is_array()) continue;
    for (const auto& c : containers)
      if (jsonString(c, "name") == "sluice-proxy") return true;
  }
  return false;
}

bool podInMesh(const json& pod) {
  const std::string phase = jsonString(jsonAt(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  const json& host_network = jsonAt(jsonAt(pod, "spec"), "hostNetwork");
  if (host_network.is_boolean() && host_network.get<bool>()) return false;
  return hasSidecar(pod);
}

struct PodRef {
  bool known = false;
  std::string workload;  // empty: outside the mesh
};

}  // namespace

mesh::Protocol portProtocol(const std::string& app_protocol, const std::string& name) {
  auto byName = [](const std::string& n, mesh::Protocol& out) {
    static const std::pair<std::string_view, mesh::Protocol> kNames[] = {
        {"http", mesh::Protocol::Http},
        {"http2", mesh::Protocol::Http2},
        {"grpc", mesh::Protocol::Grpc},
        {"kubernetes.io/h2c", mesh::Protocol::Http2},
        {"tcp", mesh::Protocol::Tcp}};
    for (const auto& [k, p] : kNames)
      if (n == k) {
        out = p;
        return true;
      }
    return false;
  };
  mesh::Protocol p = mesh::Protocol::Tcp;
  if (!app_protocol.empty() && byName(app_protocol, p)) return p;
  // Istio's convention: "<protocol>" or "<protocol>-<suffix>".
  const std::string prefix = name.substr(0, name.find('-'));
  if (prefix != "kubernetes.io/h2c" && byName(prefix, p)) return p;
  return mesh::Protocol::Tcp;
}

mesh::Mesh meshFromCluster(const ClusterObjects& objects) {
  mesh::Mesh out;

  // Pods -> workloads, and each pod's workload for the endpoints.
  std::map<std::string, PodRef> pods;  // "<ns>/<name>"
  std::map<std::pair<std::string, std::string>, mesh::Workload> workloads;
  for (const auto& [key, pod] : objectsOf(objects, "pods")) {
    PodRef& ref = pods[key];
    ref.known = true;
    if (!podInMesh(pod)) continue;
    const PodIdentity id = podIdentity(pod);
    ref.workload = id.workload;
    auto [it, fresh] = workloads.try_emplace({id.namespace_name, id.workload});
    if (!fresh) continue;  // the first pod by name (the map is ordered) names its labels
    mesh::Workload& w = it->second;
    w.name = id.workload;
    w.ns = id.namespace_name;
    w.service_account = id.service_account;
    w.labels = labelsOf(jsonAt(pod, "metadata"));
    w.labels.erase("pod-template-hash");
    w.captured = true;
    w.path = "kubernetes pod " + key;
  }
  for (auto& [key, w] : workloads) {
    w.source = workloadSource(w);
    out.workloads.push_back(std::move(w));
  }

  // EndpointSlices by the service they belong to.
  std::map<std::string, std::vector<const json*>> slices;  // "<ns>/<service>"
  for (const auto& [key, slice] : objectsOf(objects, "endpointslices")) {
    const json& meta = jsonAt(slice, "metadata");
    const std::string service = jsonString(jsonAt(meta, "labels"), "kubernetes.io/service-name");
    if (!service.empty()) slices[jsonString(meta, "namespace") + "/" + service].push_back(&slice);
  }

  for (const auto& [key, svc] : objectsOf(objects, "services")) {
    const json& meta = jsonAt(svc, "metadata");
    const json& spec = jsonAt(svc, "spec");
    if (jsonString(spec, "type") == "ExternalName") continue;
    mesh::Service s;
    s.name = jsonString(meta, "name");
    s.ns = jsonString(meta, "namespace").empty() ? "default" : jsonString(meta, "namespace");
    s.path = "kubernetes service " + s.ns + "/" + s.name;
    const json& ports = jsonAt(spec, "ports");
    std::vector<std::string> port_names;  // as in Kubernetes, beside s.ports: the slices' ports carry them
    if (ports.is_array())
      for (const json& p : ports) {
        const std::string protocol = jsonString(p, "protocol");
        if (!protocol.empty() && protocol != "TCP") continue;
        const json& number = jsonAt(p, "port");
        if (!number.is_number_integer() || number.get<int64_t>() < 1 || number.get<int64_t>() > 65535) continue;
        mesh::ServicePort sp;
        sp.port = number.get<uint32_t>();
        const std::string name = jsonString(p, "name");
        sp.protocol = portProtocol(jsonString(p, "appProtocol"), name);
        sp.name = name.empty() ? std::string(mesh::protocolName(sp.protocol)) + "-" + std::to_string(sp.port) : name;
        s.ports.push_back(std::move(sp));
        port_names.push_back(name);
      }
    const json& ips = jsonAt(spec, "clusterIPs");
    if (ips.is_array()) {
      for (const json& ip : ips)
        if (ip.is_string() && ip.get<std::string>() != "None") s.addresses.push_back(ip.get<std::string>());
    } else if (const std::string ip = jsonString(spec, "clusterIP"); !ip.empty() && ip != "None") {
      s.addresses.push_back(ip);
    }

    std::set<std::tuple<std::string, uint32_t, std::string>> seen;
    for (const json* slice : slices[s.ns + "/" + s.name]) {
      const std::string family = jsonString(*slice, "addressType");
      if (family != "IPv4" && family != "IPv6") continue;
      const json& slice_ports = jsonAt(*slice, "ports");
      const json& endpoints = jsonAt(*slice, "endpoints");
      if (!endpoints.is_array()) continue;
      for (size_t i = 0; i < s.ports.size(); ++i) {
        const mesh::ServicePort& sp = s.ports[i];
        const std::string& k8s_name = port_names[i];
        // The slice's port of the same name ("" for an unnamed port) holds
        // the target port, resolved by the endpoints controller.
        uint32_t target = 0;
        if (slice_ports.is_array())
          for (const json& p : slice_ports)
            if (jsonString(p, "name") == k8s_name && jsonAt(p, "port").is_number_integer()) target = jsonAt(p, "port").get<uint32_t>();
        if (target == 0 || target > 65535) continue;
        for (const json& ep : endpoints) {
          const json& ready = jsonAt(jsonAt(ep, "conditions"), "ready");
          if (ready.is_boolean() && !ready.get<bool>()) continue;
          std::string workload;
          const json& ref = jsonAt(ep, "targetRef");
          if (jsonString(ref, "kind") == "Pod") {
            const std::string ref_ns = jsonString(ref, "namespace").empty() ? s.ns : jsonString(ref, "namespace");
            const auto pod = pods.find(ref_ns + "/" + jsonString(ref, "name"));
            if (pod == pods.end()) continue;  // identity not known yet
            workload = pod->second.workload;
          }
          const json& addresses = jsonAt(ep, "addresses");
          if (!addresses.is_array()) continue;
          for (const json& a : addresses) {
            if (!a.is_string()) continue;
            const std::string ip = a.get<std::string>();
            const std::string text =
                (family == "IPv6" ? "[" + ip + "]" : ip) + ":" + std::to_string(target);
            const auto address = ip::Address::parse(text);
            if (!address || !seen.emplace(address->str(), sp.port, workload).second) continue;
            mesh::Endpoint e;
            e.address = *address;
            e.port = sp.port;
            e.workload = workload;
            s.endpoints.push_back(std::move(e));
          }
        }
      }
    }
    std::sort(s.endpoints.begin(), s.endpoints.end(), [](const mesh::Endpoint& a, const mesh::Endpoint& b) {
      return std::make_tuple(a.port, a.address.str(), a.workload) < std::make_tuple(b.port, b.address.str(), b.workload);
    });
    s.source = serviceSource(s);
    out.services.push_back(std::move(s));
  }

  for (const auto& [key, ns] : objectsOf(objects, "namespaces"))
    out.namespace_labels[jsonString(jsonAt(ns, "metadata"), "name")] = labelsOf(jsonAt(ns, "metadata"));
  for (const auto& [key, sa] : objectsOf(objects, "serviceaccounts")) out.service_accounts.push_back(key);
  return out;
}

}  // namespace sluice::control::kubernetes
