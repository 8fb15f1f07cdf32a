// Injection, capture and traffic chained as a Kubernetes node runs them.
// The real sluice-control (the shipped kubernetes/control.yaml plus a mesh
// of two captured workloads and a service with a virtual address) runs in a
// "node" network namespace; two pods (a client and a server Deployment's,
// one netns each, on a bridge in the node's namespace) are admitted through
// its webhook over HTTPS, and everything that then runs in them comes from
// the PATCHED pod spec, as the kubelet would run it:
//   - the init container's command, as its securityContext says (root with
//     only the capabilities it adds, no privilege escalation);
//   - the sidecar container's command, as uid 1337 with no capabilities,
//     with only the environment the spec gives it (downward-API values
//     resolved) and the files its volume mounts give it (the bootstrap from
//     the pod annotation, the projected service-account token);
//   - its probes, sent from the node to the pod's IPv4 and IPv6 addresses;
//   - then the apps: the server app on its container port, and the client
//     app (curl), which calls the service's virtual IP and port as if there
//     were no mesh.
// The test asserts the call went client sidecar -> mTLS -> server sidecar ->
// server app (the x-forwarded-client-cert the app saw, both sidecars'
// metrics). Anything the webhook gets wrong for a real pod (a path, a flag,
// a port, an env value) fails here.
//
// What stands in for the cluster, and why:
//   - no kubelet mount namespaces: a volume is a folder of the test, and a
//     path under a container's mountPath (in its command, and in the files
//     mounted with it) is read at that folder instead;
//   - no API server to mint projected service-account tokens: the token
//     file holds a bootstrap token the control plane accepts for the pod's
//     namespace and service account (`sluice-control token`);
//   - no cluster DNS: the injected sidecars dial the control plane by the
//     node's address (injection.ads_address), not by its Service name.
//
// Needs root (netns, veth, bridge, iptables) and the iptables binaries;
// skipped with a message otherwise. Names carry this process's pid; the
// fixture removes the namespaces and every process in them, pass or fail.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/support/admission.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/mesh_demo.h"
#include "tests/integration/support/netns.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kNodeIp = "10.78.0.254";
constexpr const char* kServiceVip = "10.96.0.10";
constexpr const char* kWebhookName = "sluice-control.sluice-system.svc";
constexpr const char* kContainerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// A pod: its namespace (network), addresses, and spec once admitted.
struct Pod {
  std::string name;  // metadata.name as the API server sets it
  std::string netns, veth, ip, ip6;
  json spec;         // the whole pod, patched
  std::string root;  // its volumes' folders
};

class InjectedPods : public NetnsTest {
 protected:
  void SetUp() override {
    if (const std::string why = netnsUnavailable(); !why.empty()) GTEST_SKIP() << "the injected-pods test: " << why;
    const std::string id = std::to_string(::getpid());
    node_ = "sluice-inj-node-" + id;
    client_ = {"", "sluice-inj-c-" + id, "sinjc" + id, "10.78.0.1", "fd78::1", {}, ""};
    server_ = {"", "sluice-inj-s-" + id, "sinjs" + id, "10.78.0.2", "fd78::2", {}, ""};
    if (!addNamespace(node_)) GTEST_SKIP() << "cannot create a network namespace here (no CAP_SYS_ADMIN?)";
    // The node: a bridge with the node's own address, the pods' veths on it.
    ASSERT_TRUE(sh({tool("ip"), "-n", node_, "link", "add", "br0", "type", "bridge"}));
    ASSERT_TRUE(sh({tool("ip"), "-n", node_, "addr", "add", std::string(kNodeIp) + "/24", "dev", "br0"}));
    ASSERT_TRUE(sh({tool("ip"), "-n", node_, "addr", "add", "fd78::fe/64", "dev", "br0", "nodad"}));
    ASSERT_TRUE(sh({tool("ip"), "-n", node_, "link", "set", "br0", "up"}));
    ASSERT_TRUE(sh({tool("ip"), "-n", node_, "link", "set", "lo", "up"}));
    for (Pod* pod : {&client_, &server_}) {
      ASSERT_TRUE(addNamespace(pod->netns));
      const std::string peer = pod->veth + "n";
      ASSERT_TRUE(addVeth(pod->veth, pod->netns, peer, node_));
      ASSERT_TRUE(sh({tool("ip"), "-n", node_, "link", "set", peer, "master", "br0", "up"}));
      ASSERT_TRUE(sh({tool("ip"), "-n", pod->netns, "addr", "add", pod->ip + "/24", "dev", pod->veth}));
      ASSERT_TRUE(sh({tool("ip"), "-n", pod->netns, "addr", "add", pod->ip6 + "/64", "dev", pod->veth, "nodad"}));
      ASSERT_TRUE(sh({tool("ip"), "-n", pod->netns, "link", "set", pod->veth, "up"}));
      ASSERT_TRUE(sh({tool("ip"), "-n", pod->netns, "link", "set", "lo", "up"}));
      // Service addresses leave by the default route, as on a node.
      ASSERT_TRUE(sh({tool("ip"), "-n", pod->netns, "route", "add", "default", "via", kNodeIp}));
    }
    // The server's node makes IPv6 sockets IPv6-only by default: the
    // sidecar's [::] health listener must still take IPv4 probes there.
    ASSERT_TRUE(sh(inNs(server_.netns, {"sh", "-c", "echo 1 > /proc/sys/net/ipv6/bindv6only"})));
    if (!ran(runCommand(inNs(client_.netns, {tool("iptables-save"), "-t", "nat"}), 10s)))
      GTEST_SKIP() << "iptables cannot reach the nat table here (no NET_ADMIN, or no nf_tables/ip_tables module)";
    ::chmod(dir_.path().c_str(), 0755);
  }

  // An HTTP GET from inside `ns`: the body and "status=CODE" after it.
  std::string get(const std::string& ns, const std::string& url) {
    CommandResult r =
        runCommand(inNs(ns, {"curl", "-gsS", "--max-time", "3", "-o", "-", "-w", "\nstatus=%{http_code}", url}), 5s);
    return r.out + r.err;
  }

  double metric(const Pod& pod, const std::string& name, const Labels& labels) {
    const std::string text = get(pod.netns, "http://127.0.0.1:15020/metrics");
    return findMetric(text, name, labels).value_or(-1);
  }

  // sluice-control as in the shipped example, listening for the pods on the
  // node's address, with a mesh of the two Deployments' workloads.
  void startControlPlane() {
    dir_.write("token.key", "an-operator-key-of-enough-length\n");
    std::string yaml;
    ASSERT_TRUE(shippedExample(
        "kubernetes/control.yaml",
        {{"address: 127.0.0.1:15010", "address: 0.0.0.0:15010"},
         {"\"${SLUICE_K8S_STATE}/ca\"", dir_.path() + "/ca"},
         {"\"${SLUICE_K8S_STATE}/token.key\"", dir_.path() + "/token.key"},
         {"ads_address: sluice-control.sluice-system.svc:15010", "ads_address: " + std::string(kNodeIp) + ":15010"},
         // The CA over TLS, its certificate naming the node's address too.
         {"address: 127.0.0.1:15012", "address: 0.0.0.0:15012"},
         {"ip_addresses: [127.0.0.1]", "ip_addresses: [127.0.0.1, " + std::string(kNodeIp) + "]"},
         {"ca_address: sluice-control.sluice-system.svc:15012", "ca_address: " + std::string(kNodeIp) + ":15012"}},
        &yaml));
    yaml += R"(mesh:
  trust_domain: cluster.local
  services:
    - name: server
      namespace: shop
      addresses: [)" +
            std::string(kServiceVip) + R"(]
      ports: [{port: 80, protocol: http}]
      endpoints: [{address: )" +
            server_.ip + R"(:8080, workload: server}]
  workloads:
    - {name: client, namespace: shop, capture: true}
    - {name: server, namespace: shop, capture: true}
)";
    const std::string config = dir_.write("control.yaml", yaml);
    ASSERT_TRUE(start("control", node_, {SLUICE_CONTROL_BIN, "-c", config}));
    ASSERT_TRUE(waitUntil([&] { return get(node_, "http://127.0.0.1:15000/ready").ends_with("status=200"); }, 15s))
        << stderrOf("control");
  }

  // The pod made from `manifest`, admitted by the webhook: its patch applied.
  void admit(Pod& pod, const std::string& manifest) {
    json object = podOf(manifest);
    const std::string ns = object["metadata"].value("namespace", "shop");
    const std::string body = dir_.write(manifest + ".review", review("uid-" + manifest, ns, object).dump());
    const std::vector<std::string> post = {"curl",
                                           "-sS",
                                           "--max-time",
                                           "5",
                                           "--cacert",
                                           dir_.path() + "/ca/root.pem",
                                           "--resolve",
                                           std::string(kWebhookName) + ":15017:127.0.0.1",
                                           "-H",
                                           "Content-Type: application/json",
                                           "--data-binary",
                                           "@" + body,
                                           "https://" + std::string(kWebhookName) + ":15017/inject"};
    CommandResult r = runCommand(inNs(node_, post), 10s);
    ASSERT_TRUE(ran(r)) << describe(post, r);
    const json answer = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(answer.is_object()) << r.out;
    const json& response = answer["response"];
    ASSERT_EQ(response.value("allowed", false), true) << r.out;
    ASSERT_EQ(response.value("patchType", ""), "JSONPatch") << r.out;
    const json patch = json::parse(base64Decode(response.value("patch", "")), nullptr, false);
    ASSERT_TRUE(patch.is_array()) << r.out;
    pod.spec = object.patch(patch);
    // The API server names a generateName pod; the kubelet knows its IP.
    pod.spec["metadata"]["name"] = pod.spec["metadata"].value("generateName", "") + "x2x9z";
    pod.spec["metadata"]["namespace"] = ns;
    pod.spec["status"]["podIP"] = pod.ip;
    pod.name = pod.spec["metadata"]["name"];
    pod.root = dir_.path() + "/" + pod.name;
    std::filesystem::create_directories(pod.root);
    ::chmod(pod.root.c_str(), 0755);
  }

  // A downward-API fieldPath of `pod`, as the kubelet resolves it.
  std::optional<std::string> field(const Pod& pod, const std::string& path) {
    const json& meta = pod.spec["metadata"];
    if (path == "metadata.name") return meta.value("name", "");
    if (path == "metadata.namespace") return meta.value("namespace", "");
    if (path == "spec.serviceAccountName") return pod.spec["spec"].value("serviceAccountName", "default");
    if (path == "status.podIP") return pod.ip;
    for (const char* map : {"annotations", "labels"}) {
      const std::string prefix = std::string("metadata.") + map + "['";
      if (path.starts_with(prefix) && path.ends_with("']")) {
        const std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
        if (meta.contains(map) && meta[map].contains(key)) return meta[map][key].get<std::string>();
        return "";
      }
    }
    return std::nullopt;
  }

  // The container's volume mounts made real: each volume a folder of the
  // pod's, filled as the kubelet fills it. Returns (mountPath, folder) pairs.
  std::vector<std::pair<std::string, std::string>> mountVolumes(const Pod& pod, const json& container) {
    std::vector<std::pair<std::string, std::string>> mounts;
    for (const json& m : container.value("volumeMounts", json::array())) {
      const json* volume = nullptr;
      for (const json& v : pod.spec["spec"]["volumes"])
        if (v["name"] == m["name"]) volume = &v;
      if (volume == nullptr) {
        ADD_FAILURE() << "volumeMount " << m.dump() << " names no volume of the pod";
        continue;
      }
      const std::string folder = pod.root + "/volumes/" + m["name"].get<std::string>();
      std::filesystem::create_directories(folder);
      ::chmod(folder.c_str(), 0755);
      std::vector<std::pair<std::string, std::string>> files;  // path in the volume, content
      if (volume->contains("downwardAPI")) {
        for (const json& item : (*volume)["downwardAPI"]["items"]) {
          const auto value = field(pod, item["fieldRef"].value("fieldPath", ""));
          if (!value) ADD_FAILURE() << "a downward-API item the kubelet cannot resolve: " << item.dump();
          files.emplace_back(item["path"], value.value_or(""));
        }
      } else if (volume->contains("projected")) {
        for (const json& source : (*volume)["projected"]["sources"]) {
          if (!source.contains("serviceAccountToken")) {
            ADD_FAILURE() << "a projected source this test does not make: " << source.dump();
            continue;
          }
          EXPECT_EQ(source["serviceAccountToken"].value("audience", ""), "sluice-ca");
          // What the kubelet would ask the API server for: a token of the
          // pod's service account. A bootstrap token stands in (see above).
          const std::vector<std::string> mint = {SLUICE_CONTROL_BIN,
                                                 "token",
                                                 "--key",
                                                 dir_.path() + "/token.key",
                                                 "--namespace",
                                                 *field(pod, "metadata.namespace"),
                                                 "--service-account",
                                                 *field(pod, "spec.serviceAccountName")};
          CommandResult t = runCommand(mint, 10s);
          EXPECT_TRUE(ran(t)) << describe(mint, t);
          files.emplace_back(source["serviceAccountToken"]["path"], t.out);
        }
      } else if (!volume->contains("emptyDir")) {  // an emptyDir is the empty folder itself
        ADD_FAILURE() << "a volume this test does not make: " << volume->dump();
      }
      for (const auto& [path, content] : files) {
        const std::string file = folder + "/" + path;
        writeWhole(file, content);
        ::chmod(file.c_str(), 0644);
      }
      mounts.emplace_back(m["mountPath"], folder);
    }
    // Paths inside the mounted files name other mounts (the bootstrap names
    // the token): read them where the test put them, as the mount would.
    for (const auto& [mount, folder] : mounts)
      for (const auto& entry : std::filesystem::directory_iterator(folder))
        writeWhole(entry.path(), atFolders(readFile(entry.path()), mounts));
    return mounts;
  }

  static void writeWhole(const std::string& path, const std::string& content) {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr) << path;
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
  }

  static std::string atFolders(std::string text, const std::vector<std::pair<std::string, std::string>>& mounts) {
    for (const auto& [mount, folder] : mounts) text = replaceAll(text, mount + "/", folder + "/");
    return text;
  }

  // The container `name` of `pod` (an init container or a container), as
  // the kubelet starts it: its user, capabilities, environment and files.
  std::vector<std::string> containerArgv(const Pod& pod, const std::string& name) {
    std::optional<json> found;
    for (const char* list : {"initContainers", "containers"})
      for (const json& c : pod.spec["spec"].value(list, json::array()))
        if (c["name"] == name) found = c;
    if (!found) {
      ADD_FAILURE() << "no container " << name << " in " << pod.spec.dump(2);
      return {"false"};
    }
    const json& c = *found;
    const json sc = c.value("securityContext", json::object());
    const auto uid = std::to_string(sc.value("runAsUser", 0)), gid = std::to_string(sc.value("runAsGroup", 0));
    std::vector<std::string> argv = {"setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups"};
    if (!sc.value("allowPrivilegeEscalation", true)) argv.push_back("--no-new-privs");
    const json caps = sc.value("capabilities", json::object());
    std::vector<std::string> drop = caps.value("drop", std::vector<std::string>{});
    if (std::find(drop.begin(), drop.end(), "ALL") != drop.end()) {
      // Only what the container adds is left to it.
      std::string keep = "-all";
      for (const std::string& cap : caps.value("add", std::vector<std::string>{})) {
        std::string lower;
        for (char ch : cap) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        keep += ",+" + lower;
      }
      argv.insert(argv.end(), {"--inh-caps=-all", "--bounding-set=" + keep});
    }
    argv.insert(argv.end(), {"env", "-i", std::string("PATH=") + kContainerPath, "HOSTNAME=" + pod.name});
    for (const json& e : c.value("env", json::array())) {
      std::optional<std::string> value =
          e.contains("value") ? std::optional(e["value"].get<std::string>()) : std::nullopt;
      if (e.contains("valueFrom")) value = field(pod, e["valueFrom"]["fieldRef"].value("fieldPath", ""));
      if (!value) ADD_FAILURE() << "an env value the kubelet cannot resolve: " << e.dump();
      argv.push_back(e["name"].get<std::string>() + "=" + value.value_or(""));
    }
    const auto mounts = mountVolumes(pod, c);
    std::vector<std::string> command = c.value("command", std::vector<std::string>{});
    for (const std::string& a : c.value("args", std::vector<std::string>{})) command.push_back(a);
    if (command.empty() || command[0] != "sluice") {
      ADD_FAILURE() << name << " does not run sluice: " << c.dump();
      return {"false"};
    }
    command[0] = proxyBinary();  // the image's sluice, on its PATH
    for (std::string& a : command) argv.push_back(atFolders(a, mounts));
    return argv;
  }

  // The kubelet's httpGet probe of `container`'s `kind`, from the node to
  // the pod's address `ip`: true when it answers 2xx within `timeout`.
  bool probe(const Pod& pod, const std::string& container, const char* kind, const std::string& ip, Millis timeout) {
    for (const char* list : {"initContainers", "containers"})
      for (const json& c : pod.spec["spec"].value(list, json::array()))
        if (c["name"] == container && c.contains(kind)) {
          const json& http = c[kind]["httpGet"];
          const std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
          const std::string url =
              "http://" + host + ":" + std::to_string(http["port"].get<int>()) + http["path"].get<std::string>();
          return waitUntil([&] { return get(node_, url).ends_with("status=200"); }, timeout);
        }
    ADD_FAILURE() << "no " << kind << " on " << container;
    return false;
  }

  // What the kubelet does with an admitted pod: the capture step, the
  // native sidecar until its startup probe passes, then the app.
  void runPod(Pod& pod, const std::string& app, std::vector<std::string> app_argv) {
    const std::vector<std::string> init = containerArgv(pod, "sluice-init");
    ASSERT_TRUE(sh(inNs(pod.netns, init), 20s)) << "the init container failed";
    ASSERT_TRUE(start("sidecar-" + pod.name, pod.netns, containerArgv(pod, "sluice-proxy")));
    ASSERT_TRUE(probe(pod, "sluice-proxy", "startupProbe", pod.ip, 15s)) << "the sidecar's startup probe never passed";
    if (!app_argv.empty()) {
      ASSERT_TRUE(start(app + "-" + pod.name, pod.netns, std::move(app_argv), "listening on"));
    }
  }

  std::string node_;
  Pod client_, server_;
};

TEST_F(InjectedPods, AnInjectedClientCallsAServiceOverTheMeshAsIfThereWereNone) {
  startControlPlane();
  if (HasFatalFailure()) return;
  admit(client_, "mesh-client.json");
  admit(server_, "mesh-server.json");
  if (HasFatalFailure()) return;
  // The server app listens on its container port.
  const int app_port = server_.spec["spec"]["containers"][0]["ports"][0]["containerPort"];
  const std::string echo = dir_.write("echo_app.py", kEchoApp);
  runPod(server_, "app", {"/usr/bin/python3", echo, std::to_string(app_port)});
  if (HasFatalFailure()) return;
  runPod(client_, "", {});
  if (HasFatalFailure()) return;

  // The kubelet's probes, to the pod's IPv4 and IPv6 addresses: the
  // sidecar's readiness, and the app's readiness rewritten through it.
  for (const Pod* pod : {&server_, &client_})
    for (const std::string& ip : {pod->ip, pod->ip6})
      EXPECT_TRUE(probe(*pod, "sluice-proxy", "readinessProbe", ip, 5s)) << pod->name << " at " << ip;
  EXPECT_TRUE(probe(server_, "server", "readinessProbe", server_.ip, 5s));
  EXPECT_TRUE(probe(server_, "server", "readinessProbe", server_.ip6, 5s));

  // The client app calls the service's virtual address; the sidecars may
  // still be waiting for their certificates.
  const std::string url = "http://" + std::string(kServiceVip) + ":80/orders";
  std::string answer;
  const bool answered = waitUntil(
      [&] {
        answer = get(client_.netns, url);
        return answer.ends_with("status=200");
      },
      20s);
  ASSERT_TRUE(answered) << answer << "\nclient sidecar: " << get(client_.netns, "http://127.0.0.1:15020/config_dump");
  EXPECT_NE(answer.find("x-forwarded-client-cert: "), std::string::npos) << answer;
  EXPECT_NE(answer.find("URI=spiffe://cluster.local/ns/shop/sa/client"), std::string::npos) << answer;
  EXPECT_NE(answer.find("By=spiffe://cluster.local/ns/shop/sa/server"), std::string::npos) << answer;
  // The client's sidecar took it on the captured outbound port and sent it
  // to the service's cluster; the server's on the captured inbound port,
  // over TLS, on to its app.
  EXPECT_GE(metric(client_, "sluice_listener_downstream_cx_total", {{"listener", "outbound_capture"}}), 1);
  EXPECT_GE(metric(client_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "outbound_80__server.shop"}}), 1);
  EXPECT_GE(metric(server_, "sluice_listener_downstream_cx_tls_total", {{"listener", "inbound_capture"}}), 1);
  EXPECT_GE(metric(server_, "sluice_cluster_upstream_rq_2xx_total", {{"cluster", "inbound_80_server"}}), 1);
}

}  // namespace
}  // namespace sluice::itest
