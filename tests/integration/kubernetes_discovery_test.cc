// sluice-control discovering a Service, its EndpointSlices and its Pods
// from a stand-in Kubernetes API server in this process (loopback, plain
// HTTP), which answers list and watch requests in the API server's own JSON
// formats: List objects with metadata.resourceVersion and continue, watch
// events as chunked JSON lines, 410 Gone as an HTTP status and as an ERROR
// event carrying a Status, and a watch dropped mid-stream. There is no real
// API server here: this is what discovery is verified against.
//
// An xDS client (daemon_xds_probe.js) as a file-defined workload calling the
// discovered service sees the pods' addresses in its endpoints, and every
// change the watches bring.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/daemon_process.h"
#include "tests/integration/support/grpc_node.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// "a=1&b=2" of a target "/path?a=1&b=2", as a map.
std::map<std::string, std::string> queryOf(const std::string& target) {
  std::map<std::string, std::string> out;
  const size_t q = target.find('?');
  if (q == std::string::npos) return out;
  std::string rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string kv = rest.substr(0, amp);
    const size_t eq = kv.find('=');
    out[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
  }
  return out;
}

std::string pathOf(const std::string& target) { return target.substr(0, target.find('?')); }

json status410(const std::string& message) {
  return json{{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
              {"status", "Failure"}, {"message", message}, {"reason", "Expired"},
              {"code", 410}};
}

// The stand-in API server. Each collection has a List (items and
// resourceVersion) the test may replace, served in pages of `limit` with a
// continue token; and a queue of what its watches send, one step at a time.
class StandInApiServer {
 public:
  struct Step {
    enum Kind { Line, Drop, End, Http410 } kind;
    std::string text;
  };

  StandInApiServer() : server_([this](const UpstreamRequest& r, UpstreamExchange& ex) { handle(r, ex); }) {}
  ~StandInApiServer() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.stop();
  }

  uint16_t port() const { return server_.port(); }

  void setList(const std::string& path, const std::string& rv, std::vector<json> items) {
    std::lock_guard lock(mu_);
    lists_[path] = {rv, std::move(items)};
  }
  void watchStep(const std::string& path, Step step) {
    {
      std::lock_guard lock(mu_);
      steps_[path].push_back(std::move(step));
    }
    cv_.notify_all();
  }
  // What a TokenReview of `token` answers: authenticated as `user` for
  // `audiences` (an unknown token: not authenticated).
  void setReview(const std::string& token, const std::string& user, std::vector<std::string> audiences) {
    std::lock_guard lock(mu_);
    reviews_[token] = {user, std::move(audiences)};
  }
  void event(const std::string& path, const std::string& type, const json& object) {
    watchStep(path, {Step::Line, json{{"type", type}, {"object", object}}.dump()});
  }

  std::vector<UpstreamRequest> requestsWithBodies() const { return server_.requests(); }

  // The targets requested of `path`, in order.
  std::vector<std::string> requests(const std::string& path) const {
    std::vector<std::string> out;
    for (const auto& r : server_.requests())
      if (pathOf(r.target) == path) out.push_back(r.target);
    return out;
  }
  bool waitForRequest(const std::string& target, Millis timeout = 10000ms) const {
    return waitUntil(
        [&] {
          for (const auto& r : server_.requests())
            if (r.target == target) return true;
          return false;
        },
        timeout);
  }

 private:
  void handle(const UpstreamRequest& r, UpstreamExchange& ex) {
    const std::string path = pathOf(r.target);
    auto q = queryOf(r.target);
    if (r.header("authorization").value_or("") != "Bearer stand-in-token") {
      ex.respond(401, R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":401})");
      return;
    }
    if (q["watch"] == "1") return watch(path, ex);
    if (r.method == "POST" && path == "/apis/authentication.k8s.io/v1/tokenreviews") return review(r, ex);
    std::unique_lock lock(mu_);
    const auto it = lists_.find(path);
    if (it == lists_.end()) {
      lock.unlock();
      ex.respond(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":404})");
      return;
    }
    const size_t limit = q["limit"].empty() ? 500 : std::stoul(q["limit"]);
    const size_t from = q["continue"].empty() ? 0 : std::stoul(q["continue"].substr(1));
    const auto& [rv, items] = it->second;
    json list{
        {"kind", "List"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", rv}}}, {"items", json::array()}};
    for (size_t i = from; i < items.size() && i < from + limit; ++i) list["items"].push_back(items[i]);
    if (from + limit < items.size()) list["metadata"]["continue"] = "c" + std::to_string(from + limit);
    lock.unlock();
    ex.respond(200, list.dump(), {{"content-type", "application/json"}});
  }

  void review(const UpstreamRequest& r, UpstreamExchange& ex) {
    const json in = json::parse(r.body, nullptr, false);
    if (!in.is_object() || in.value("kind", "") != "TokenReview" || !in.contains("spec")) {
      ex.respond(400, R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":400})");
      return;
    }
    json out = in;
    std::lock_guard lock(mu_);
    const auto it = reviews_.find(in["spec"].value("token", ""));
    if (it == reviews_.end()) {
      out["status"] = {{"authenticated", false}, {"error", "invalid bearer token"}};
    } else {
      out["status"] = {{"authenticated", true},
                       {"user", {{"username", it->second.first}, {"uid", "u-1"}}},
                       {"audiences", it->second.second}};
    }
    ex.respond(201, out.dump(), {{"content-type", "application/json"}});
  }

  void watch(const std::string& path, UpstreamExchange& ex) {
    std::unique_lock lock(mu_);
    // Only the newest watch of a path takes its steps: an older one (which
    // the client left) ends.
    const int me = ++watch_serial_[path];
    auto& steps = steps_[path];
    if (!steps.empty() && steps.front().kind == Step::Http410) {
      steps.pop_front();
      lock.unlock();
      ex.respond(410, status410("too old resource version").dump(), {{"content-type", "application/json"}});
      ex.close();
      return;
    }
    lock.unlock();
    if (!ex.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
    // Bounded: a watch lasts at most a minute here.
    const auto until = Clock::now() + 60s;
    lock.lock();
    while (!stopping_ && Clock::now() < until && watch_serial_[path] == me) {
      if (steps.empty() || steps.front().kind == Step::Http410) {
        cv_.wait_for(lock, 100ms);
        continue;
      }
      Step step = std::move(steps.front());
      steps.pop_front();
      lock.unlock();
      if (step.kind == Step::Drop) {
        ex.send("5\r\n{\"typ\r\n");  // a torn event, then the connection goes
        ex.reset();
        return;
      }
      if (step.kind == Step::End) {
        ex.send("0\r\n\r\n");
        return;
      }
      const std::string line = step.text + "\n";
      char size[16];
      std::snprintf(size, sizeof(size), "%zx\r\n", line.size());
      if (!ex.send(std::string(size) + line + "\r\n")) return;
      lock.lock();
    }
    ex.close();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::pair<std::string, std::vector<json>>> lists_;
  std::map<std::string, std::deque<Step>> steps_;
  std::map<std::string, int> watch_serial_;
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> reviews_;
  HttpUpstream server_;  // last: its threads use the members above
};

constexpr const char* kSlices = "/apis/discovery.k8s.io/v1/endpointslices";
constexpr const char* kPods = "/api/v1/pods";
constexpr const char* kServices = "/api/v1/services";

json pod(const std::string& name, const std::string& ip) {
  return json::parse(R"({"metadata":{"name":")" + name + R"(","generateName":"backend-7d4f9-","namespace":"default",
    "resourceVersion":"90","labels":{"app":"backend","pod-template-hash":"7d4f9"},
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"backend-7d4f9","controller":true}]},
    "spec":{"serviceAccountName":"backend","containers":[{"name":"app","image":"backend"}],
      "initContainers":[{"name":"sluice-proxy","image":"sluice","restartPolicy":"Always"}]},
    "status":{"phase":"Running","podIP":")" +
                     ip + R"("}})");
}

json slice(const std::string& rv, const std::vector<std::pair<std::string, std::string>>& endpoints) {
  json s = json::parse(R"({"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1",
    "metadata":{"name":"backend-x1","namespace":"default","labels":{"kubernetes.io/service-name":"backend"}},
    "addressType":"IPv4","endpoints":[],"ports":[{"name":"http","protocol":"TCP","port":18080}]})");
  s["metadata"]["resourceVersion"] = rv;
  for (const auto& [pod_name, ip] : endpoints)
    s["endpoints"].push_back({{"addresses", {ip}},
                              {"conditions", {{"ready", true}}},
                              {"targetRef", {{"kind", "Pod"}, {"namespace", "default"}, {"name", pod_name}}}});
  return s;
}

json bookmark(const std::string& rv) {
  return json{{"kind", "EndpointSlice"},
              {"apiVersion", "discovery.k8s.io/v1"},
              {"metadata", {{"resourceVersion", rv}, {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
}

std::string controlYaml(const TempDir& dir, uint16_t api_port) {
  return "ads: {address: 127.0.0.1:0}\n"
         "admin: {address: 127.0.0.1:0}\n"
         "debounce: 50ms\n"
         "kubernetes:\n"
         "  api_server: http://127.0.0.1:" +
         std::to_string(api_port) +
         "\n"
         "  token_file: " +
         dir.path() +
         "/token\n"
         "  page_size: 1\n"
         "  sync_timeout: 3s\n"
         "  backoff: {initial: 50ms, max: 300ms}\n"
         "mesh:\n"
         "  workloads:\n"
         "    - name: client\n"
         "      outbound: [{service: backend, port: 8080, address: 127.0.0.1:15901}]\n";
}

// controlYaml for an API server that never lists: the mesh's service is
// the file's own, and the first lists are waited on for 200ms only.
std::string withoutApiServer(const TempDir& dir, uint16_t api_port) {
  std::string yaml = controlYaml(dir, api_port);
  yaml.replace(yaml.find("sync_timeout: 3s"), 16, "sync_timeout: 200ms");
  const std::string outbound = "outbound: [{service: backend, port: 8080, address: 127.0.0.1:15901}]";
  yaml.replace(yaml.find(outbound), outbound.size(),
               "outbound: [{service: local, port: 8080, address: 127.0.0.1:15901}]");
  return yaml + "  services:\n    - {name: local, ports: [{port: 8080}], endpoints: [{address: 127.0.0.1:18123}]}\n";
}

const char* kCluster = "outbound_8080__backend.default";

std::vector<std::string> endpointsOf(const json& eds) {
  std::vector<std::string> out;
  if (eds.contains("resources") && eds["resources"].contains(kCluster))
    for (const auto& a : eds["resources"][kCluster]) out.push_back(a.get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

// Waits (bounded) until the newest EDS response holds `want`: older
// responses may hold it too.
::testing::AssertionResult lastEdsIs(const XdsProbe& probe, std::vector<std::string> want) {
  const bool ok = waitUntil(
      [&] {
        const auto eds = probe.responses("EDS");
        return !eds.empty() && endpointsOf(eds.back()) == want;
      },
      10000ms);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << probe.output();
}

void listEverything(StandInApiServer& api) {
  api.setList("/api/v1/namespaces", "100",
              {json::parse(R"({"metadata":{"name":"default","labels":{"kubernetes.io/metadata.name":"default"}}})")});
  api.setList("/api/v1/serviceaccounts", "100",
              {json::parse(R"({"metadata":{"name":"backend","namespace":"default"}})")});
  api.setList(kPods, "100", {pod("backend-7d4f9-aaaaa", "10.244.0.5"), pod("backend-7d4f9-bbbbb", "10.244.0.6")});
  api.setList(kServices, "100", {json::parse(R"({"metadata":{"name":"backend","namespace":"default"},
    "spec":{"clusterIP":"10.96.0.20","clusterIPs":["10.96.0.20"],"type":"ClusterIP",
            "ports":[{"name":"http","protocol":"TCP","port":8080,"targetPort":18080}]}})")});
  api.setList(kSlices, "100", {slice("100", {{"backend-7d4f9-aaaaa", "10.244.0.5"}})});
}

TEST(KubernetesDiscoveryTest, ListWatchBookmarkGoneAndDropReachTheProxiesConfig) {
  TempDir dir;
  dir.write("token", "stand-in-token\n");
  StandInApiServer api;
  listEverything(api);
  ControlDaemonProcess daemon(controlYaml(dir, api.port()));
  ASSERT_TRUE(daemon.start());

  // Listed before the file was loaded: the file's binding to the discovered
  // service resolved, its endpoint is the pod's IP and the slice's port.
  XdsProbe probe(daemon.adsAddress(), "client.default", "", {"cds", std::string("eds=") + kCluster});
  ASSERT_TRUE(probe.start());
  ASSERT_TRUE(lastEdsIs(probe, {"10.244.0.5:18080"}));
  // Pods came in pages of one, with the continue token.
  EXPECT_TRUE(api.waitForRequest(std::string(kPods) + "?limit=1&continue=c1"));
  const std::string watch = std::string(kSlices) + "?watch=1&allowWatchBookmarks=true&resourceVersion=";
  ASSERT_TRUE(api.waitForRequest(watch + "100&timeoutSeconds=300"));

  // A MODIFIED slice: the second pod is ready.
  api.event(kSlices, "MODIFIED",
            slice("110", {{"backend-7d4f9-aaaaa", "10.244.0.5"}, {"backend-7d4f9-bbbbb", "10.244.0.6"}}));
  ASSERT_TRUE(lastEdsIs(probe, {"10.244.0.5:18080", "10.244.0.6:18080"}));

  // A bookmark, then 410 as an ERROR event: a relist (which now holds only
  // the second pod), and a watch from the new list's version.
  api.setList(kSlices, "200", {slice("200", {{"backend-7d4f9-bbbbb", "10.244.0.6"}})});
  api.event(kSlices, "BOOKMARK", bookmark("150"));
  api.event(kSlices, "ERROR", status410("too old resource version: 150 (190)"));
  ASSERT_TRUE(api.waitForRequest(watch + "200&timeoutSeconds=300"));
  ASSERT_TRUE(lastEdsIs(probe, {"10.244.0.6:18080"}));

  // A bookmark, then the watch drops mid-event: watched again from the
  // bookmark's version, which answers HTTP 410: listed again.
  api.setList(kSlices, "300", {slice("300", {{"backend-7d4f9-aaaaa", "10.244.0.5"}})});
  api.event(kSlices, "BOOKMARK", bookmark("250"));
  api.watchStep(kSlices, {StandInApiServer::Step::Drop, ""});
  api.watchStep(kSlices, {StandInApiServer::Step::Http410, ""});
  ASSERT_TRUE(api.waitForRequest(watch + "250&timeoutSeconds=300"));
  ASSERT_TRUE(api.waitForRequest(watch + "300&timeoutSeconds=300"));
  ASSERT_TRUE(lastEdsIs(probe, {"10.244.0.5:18080"}));

  // Every request of the slices, in order.
  EXPECT_EQ(api.requests(kSlices), (std::vector<std::string>{
                                       std::string(kSlices) + "?limit=1",
                                       watch + "100&timeoutSeconds=300",
                                       std::string(kSlices) + "?limit=1",
                                       watch + "200&timeoutSeconds=300",
                                       watch + "250&timeoutSeconds=300",
                                       std::string(kSlices) + "?limit=1",
                                       watch + "300&timeoutSeconds=300",
                                   }));
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_kubernetes_relists_total", {{"resource", "endpointslices"}}, 2));
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_kubernetes_lists_total", {{"resource", "endpointslices"}}, 3));
  EXPECT_TRUE(daemon.waitMetricEq("sluice_control_kubernetes_lists_total", {{"resource", "pods"}}, 1));
  const auto errors = daemon.metric("sluice_control_kubernetes_errors_total", {{"resource", "endpointslices"}});
  ASSERT_TRUE(errors);
  EXPECT_EQ(*errors, 1);  // the drop (a 410 is not an error)

  // The API server goes away: every watch fails and retries, and the last
  // discovered state keeps serving.
  const size_t eds_before = probe.responses("EDS").size();
  api.stop();
  EXPECT_TRUE(waitUntil(
      [&] {
        const auto e = daemon.metric("sluice_control_kubernetes_errors_total", {{"resource", "endpointslices"}});
        return e && *e >= 3;
      },
      10000ms));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(probe.responses("EDS").size(), eds_before) << probe.output();
  EXPECT_EQ(daemon.get("/ready").status, 200);
  EXPECT_NE(daemon.stderrText().find("kubernetes: endpointslices: watch"), std::string::npos) << daemon.stderrText();
}

TEST(KubernetesDiscoveryTest, AnUnreachableApiServerAtStartLeavesTheFilesMeshServing) {
  TempDir dir;
  dir.write("token", "stand-in-token\n");
  uint16_t closed_port;
  {
    Fd l = listenLoopback(1);
    closed_port = localPort(l.get());
  }
  ControlDaemonProcess daemon(withoutApiServer(dir, closed_port));
  ASSERT_TRUE(daemon.start());
  XdsProbe probe(daemon.adsAddress(), "client.default", "", {"cds", "eds=outbound_8080__local.default"});
  ASSERT_TRUE(probe.start());
  ASSERT_TRUE(probe.waitFor("EDS", [](const json& r) {
    return r["resources"].contains("outbound_8080__local.default");
  })) << probe.output();
  EXPECT_TRUE(waitUntil(
      [&] {
        const auto e = daemon.metric("sluice_control_kubernetes_errors_total", {{"resource", "services"}});
        return e && *e >= 2;
      },
      10000ms));
  EXPECT_NE(daemon.stderrText().find("kubernetes: services: list /api/v1/services?limit=1: connect 127.0.0.1:" +
                                     std::to_string(closed_port) + ": Connection refused; retrying in "),
            std::string::npos)
      << daemon.stderrText();
}

// HTTPS to the API server, verified against the CA given: `openssl s_server
// -WWW` (a file server, HTTP/1.0, the body ending at the close) serves a
// recorded List under the path and query sluice-control asks for, with a
// certificate for IP 127.0.0.1 from a test CA. A CA that did not sign it
// fails the handshake, retried with backoff.
TEST(KubernetesDiscoveryTest, ListsOverTlsVerifiedByTheCaFile) {
  if (!haveExecutable("openssl")) GTEST_SKIP() << "no openssl command";
  TempDir dir;
  auto run = [&](const std::string& cmd) {
    const CommandResult r = runCommand({"sh", "-c", "cd '" + dir.path() + "' && " + cmd}, 20000ms);
    return exitedWith(r.status, 0) ? std::string() : cmd + ": " + r.err;
  };
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  for (const std::string& cmd :
       {"openssl req -x509 " + ec + " -keyout ca.key -out ca.crt -subj /CN=test-ca -days 1",
        "openssl req -x509 " + ec + " -keyout other.key -out other.crt -subj /CN=other-ca -days 1",
        "openssl req " + ec + " -keyout srv.key -out srv.csr -subj /CN=kube-apiserver",
        std::string("printf 'subjectAltName=IP:127.0.0.1\n' > ext && openssl x509 -req -in srv.csr -CA ca.crt ") +
            "-CAkey ca.key -CAcreateserial -out srv.crt -days 1 -extfile ext",
        std::string("mkdir -p www/api/v1 && printf '%s' '{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",") +
            "\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[{\"metadata\":{\"name\":\"tls-svc\"," +
            "\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80}]}}]}' " +
            "> 'www/api/v1/services?limit=500'"})
    ASSERT_EQ(run(cmd), "");
  uint16_t port;
  {
    Fd l = listenLoopback(1);
    port = localPort(l.get());
  }
  const pid_t server =
      spawnCommand({"sh", "-c",
                    "cd '" + dir.path() + "/www' && exec openssl s_server -accept 127.0.0.1:" + std::to_string(port) +
                        " -cert ../srv.crt -key ../srv.key -WWW -quiet"},
                   dir.path() + "/s_server.out", dir.path() + "/s_server.err");
  ASSERT_GT(server, 0);
  ASSERT_TRUE(waitUntil([&] { return connectLoopback(port, 200ms).valid(); }, 5000ms))
      << readFile(dir.path() + "/s_server.err");
  dir.write("token", "t\n");
  auto yaml = [&](const std::string& ca) {
    return "ads: {address: 127.0.0.1:0}\nadmin: {address: 127.0.0.1:0}\n"
           "kubernetes:\n  api_server: https://127.0.0.1:" +
           std::to_string(port) + "\n  token_file: " + dir.path() + "/token\n  ca_file: " + dir.path() + "/" + ca +
           "\n  sync_timeout: 2s\n  backoff: {initial: 50ms, max: 200ms}\n";
  };
  {
    ControlDaemonProcess daemon(yaml("ca.crt"));
    ASSERT_TRUE(daemon.start());
    EXPECT_TRUE(daemon.waitMetricEq("sluice_control_kubernetes_lists_total", {{"resource", "services"}}, 1));
    EXPECT_NE(daemon.stderrText().find("kubernetes: services: listed 1 at resourceVersion 7"), std::string::npos)
        << daemon.stderrText();
  }
  {
    ControlDaemonProcess daemon(yaml("other.crt"));
    ASSERT_TRUE(daemon.start());
    EXPECT_TRUE(waitUntil(
        [&] {
          const auto e = daemon.metric("sluice_control_kubernetes_errors_total", {{"resource", "services"}});
          return e && *e >= 1;
        },
        10000ms));
    EXPECT_EQ(daemon.metric("sluice_control_kubernetes_lists_total", {{"resource", "services"}}).value_or(-1), 0);
    EXPECT_NE(daemon.stderrText().find("TLS handshake with 127.0.0.1:" + std::to_string(port)), std::string::npos)
        << daemon.stderrText();
  }
  ::kill(server, SIGKILL);
  ::waitpid(server, nullptr, 0);
}

}  // namespace
}  // namespace sluice::itest

namespace sluice::itest {
namespace {

// A CSR for a P-256 key, as a sidecar's certificate agent makes it; "" when
// openssl fails.
std::string makeCsr(const TempDir& dir) {
  const std::string csr = dir.path() + "/web.csr";
  const CommandResult made =
      runCommand({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                  dir.path() + "/web.key", "-out", csr, "-subj", "/CN=web"},
                 30000ms);
  EXPECT_TRUE(exitedWith(made.status, 0)) << made.err;
  return exitedWith(made.status, 0) ? csr : "";
}

// The CA's answer to `csr` with `token` (ca_client.js): {"code", "details"}
// or {"code": 0, "cert_chain"}.
json caCall(const ControlDaemonProcess& daemon, const TempDir& dir, const std::string& csr, const std::string& token) {
  std::vector<std::string> argv = nodeScript("ca_client.js");
  argv.insert(argv.end(), {daemon.caAddress(), dir.path() + "/ca/root.pem", csr, token, "3600"});
  const CommandResult r = runCommand(argv, 30000ms);
  const json j = json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << r.out << r.err;
  return j.is_object() ? j : json{{"code", -1}};
}

// An injected sidecar's projected service-account token is a credential of
// the CA: the API server's TokenReview says whose it is, for audience
// sluice-ca, and the certificate names that service account; a token the
// review refuses, or one minted for another audience, gets no certificate.
TEST(KubernetesTokenReviewTest, TheCaIssuesForTheServiceAccountTheApiServerVouchesFor) {
  TempDir dir;
  dir.write("token", "stand-in-token\n");
  StandInApiServer api;
  listEverything(api);
  api.setReview("projected-web", "system:serviceaccount:prod:web", {"sluice-ca"});
  api.setReview("projected-for-vault", "system:serviceaccount:prod:web", {"vault"});
  api.setReview("a-user-token", "jane@example.com", {"sluice-ca"});
  dir.write("token.key", "00112233445566778899aabbccddeeff");
  ControlDaemonProcess daemon(controlYaml(dir, api.port()) +
                              "ca:\n  trust_domain: cluster.local\n  dir: " + dir.path() + "/ca\n  token_keys: [" +
                              dir.path() + "/token.key]\n  address: 127.0.0.1:0\n");
  ASSERT_TRUE(daemon.start());
  const std::string csr = makeCsr(dir);
  ASSERT_FALSE(csr.empty());
  auto call = [&](const std::string& token) { return caCall(daemon, dir, csr, token); };

  const json good = call("projected-web");
  ASSERT_EQ(good["code"], 0) << good.dump();
  const std::string leaf = dir.write("leaf.pem", good["cert_chain"][0].get<std::string>());
  const CommandResult san = runCommand({"openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", leaf}, 10000ms);
  EXPECT_EQ(san.out, "X509v3 Subject Alternative Name: critical\n    URI:spiffe://cluster.local/ns/prod/sa/web\n");
  // The review was asked for our audience, with the API server's credentials.
  bool asked = false;
  for (const auto& r : api.requestsWithBodies())
    if (r.method == "POST" && r.body.find(R"("audiences":["sluice-ca"])") != std::string::npos &&
        r.body.find(R"("token":"projected-web")") != std::string::npos)
      asked = true;
  EXPECT_TRUE(asked);

  for (const char* bad : {"projected-for-vault", "a-user-token", "unknown-token"}) {
    const json refused = call(bad);
    EXPECT_EQ(refused["code"], 16) << bad << ": " << refused.dump();  // UNAUTHENTICATED
  }
  EXPECT_NE(call("projected-for-vault")["details"].get<std::string>().find("not for audience 'sluice-ca'"),
            std::string::npos);
  // Bootstrap tokens still work beside them.
  const CommandResult minted = runCommand({SLUICE_CONTROL_BIN, "token", "--key", dir.path() + "/token.key",
                                           "--namespace", "default", "--service-account", "edge"},
                                          10000ms);
  ASSERT_TRUE(exitedWith(minted.status, 0)) << minted.err;
  std::string token = minted.out;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  EXPECT_EQ(call(token)["code"], 0);
}

// An API server that never answers (its address drops the SYN: here a
// listener whose accept queue is full) costs a certificate request the
// review's bound, not the kernel's connect retries: the CA refuses the
// token (UNAUTHENTICATED, the agent retries) within it.
TEST(KubernetesTokenReviewTest, AnApiServerThatNeverAnswersIsGivenUpOnWithinTheReviewBound) {
  TempDir dir;
  dir.write("token", "stand-in-token\n");
  dir.write("token.key", "00112233445566778899aabbccddeeff");
  // Backlog 0 holds one connection nobody accepts; the next SYN is dropped.
  Fd silent = listenLoopback(0);
  const uint16_t port = localPort(silent.get());
  std::vector<Fd> queued;
  for (int i = 0; i < 8; ++i) {
    int err = 0;
    Fd c = connectLoopback(port, 300ms, &err);
    if (!c && err == ETIMEDOUT) break;
    ASSERT_TRUE(c) << "connect: " << err;
    queued.push_back(std::move(c));
  }
  ControlDaemonProcess daemon(withoutApiServer(dir, port) + "ca:\n  trust_domain: cluster.local\n  dir: " + dir.path() +
                              "/ca\n  token_keys: [" + dir.path() + "/token.key]\n  address: 127.0.0.1:0\n");
  ASSERT_TRUE(daemon.start());
  const std::string csr = makeCsr(dir);
  ASSERT_FALSE(csr.empty());
  const auto started = std::chrono::steady_clock::now();
  const json refused = caCall(daemon, dir, csr, "projected-web");
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(refused["code"], 16) << refused.dump();  // UNAUTHENTICATED
  EXPECT_NE(refused.value("details", "").find("TokenReview: connect 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << refused.dump();
  // The review's bound is 5 s; the rest is node starting the client.
  EXPECT_LT(took, 12s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_GE(took, 4s) << "the review did not wait for the API server at all: " << refused.dump();
}

}  // namespace
}  // namespace sluice::itest
