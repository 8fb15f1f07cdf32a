// Issue 13's rotations in the demo mesh (support/mesh_demo.h), end to end:
// workload certificates renewed under a long transfer and keep-alive load,
// and the trust bundle moved from the CA's root A to an operator's root B
// (B trusted beside A, then B signing with A still trusted, then B alone)
// with fresh mTLS handshakes through the mesh all along.
//
// Fresh handshakes: the fixture adds a TCP service `ledger`, served by
// backend-v1 and called from the frontend's outbound, so every connection
// the test opens to that outbound is a new mTLS connection between the two
// sidecars (an HTTP pool would reuse its connections).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/keepalive_load.h"
#include "tests/integration/support/mesh_demo.h"
#include "tests/integration/support/stream.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kSeed = 13;
constexpr uint64_t kHugeBytes = 96ull << 20;

class MeshRotation : public MeshDemo {
 protected:
  HttpUpstream::Handler appHandler(const std::string& app) override {
    if (app == "frontend") return MeshDemo::appHandler(app);
    return byPathPrefix({{"/huge", hugeResponse(kSeed, kHugeBytes)}}, describeRequest(app));
  }

  std::vector<std::string> morePorts() override { return {"15102", "15107"}; }

  std::string editExample(std::string yaml) override {
    auto insert = [&](const std::string& after, const std::string& text) {
      const size_t at = yaml.find(after);
      ASSERT_NE(at, std::string::npos) << after;
      yaml.insert(at + after.size(), text);
    };
    insert("- {address: 127.0.0.1:15206, workload: backend-v2}\n",
           "    - name: ledger\n"
           "      ports: [{port: 9000, protocol: tcp}]\n"
           "      endpoints:\n"
           "        - {address: 127.0.0.1:15107, workload: backend-v1}\n");
    insert("- {service: backend, port: 8080, address: 127.0.0.1:15106, app: 127.0.0.1:18106}\n",
           "        - {service: ledger, port: 9000, address: 127.0.0.1:15107, app: 127.0.0.1:" +
               std::to_string(ledger_.port()) + "}\n");
    insert("- {service: backend, port: 8080, address: 127.0.0.1:15101}\n",
           "        - {service: ledger, port: 9000, address: 127.0.0.1:15102}\n");
    // The long transfer goes to backend-v1 alone, with time enough.
    insert("gateways: [edge]\n      rules:\n",
           "        - name: huge\n"
           "          match: {prefix: /huge}\n"
           "          to: [{service: backend, subset: {version: v1}}]\n"
           "          timeout: 120s\n");
    return yaml;
  }

  // What a proxy's /config_dump holds as the trusted CAs of secret ROOTCA.
  std::string rootca(const std::string& name) {
    const auto dump = nlohmann::json::parse(proxy(name).get("/config_dump").body, nullptr, false);
    std::string found;
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
      if (j.is_object()) {
        if (j.value("name", "") == "ROOTCA" && j.contains("validation_context"))
          found = j["validation_context"].value("trusted_ca", "");
        for (const auto& [k, v] : j.items()) walk(v);
      } else if (j.is_array()) {
        for (const auto& v : j) walk(v);
      }
    };
    walk(dump);
    return found;
  }

  // The issuer of the certificate a proxy holds now (its /certs).
  std::string issuer(const std::string& name) {
    const auto certs = nlohmann::json::parse(proxy(name).get("/certs").body, nullptr, false);
    if (certs.is_array())
      for (const auto& p : certs)
        for (const auto& c : p.value("certificates", nlohmann::json::array()))
          if (c.value("spiffe_id", nlohmann::json()).is_string()) return c.value("issuer", "");
    return {};
  }

  HttpUpstream ledger_{describeRequest("ledger")};
};

// The certificate a sidecar's inbound port presents (openssl s_client, no
// client certificate: the server's comes first), and whether it verifies
// against `ca_file`.
struct Presented {
  std::string serial;
  bool verified = false;
};

Presented presented(uint16_t port, const std::string& ca_file) {
  const std::string connect =
      "openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -CAfile " + ca_file + " </dev/null 2>/dev/null";
  Presented p;
  p.verified = runCommand({"sh", "-c", connect}, 10s).out.find("Verify return code: 0 (ok)") != std::string::npos;
  std::smatch m;
  const std::string out = runCommand({"sh", "-c", connect + " | openssl x509 -noout -serial"}, 10s).out;
  if (std::regex_search(out, m, std::regex("serial=([0-9A-F]+)"))) p.serial = m[1];
  return p;
}

// The base64 of every certificate in a PEM text, without line breaks: the
// same certificate matches however its PEM was wrapped or escaped.
bool holdsCert(std::string bundle, const std::string& pem_file) {
  auto flat = [](std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '\n'), s.end());
    return s;
  };
  bundle = flat(bundle);
  const std::string pem = flat(readFile(pem_file));
  const std::string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
  const size_t b = pem.find(begin), e = pem.find(end);
  if (b == std::string::npos || e == std::string::npos) return false;
  return bundle.find(pem.substr(b + begin.size(), e - b - begin.size())) != std::string::npos;
}

size_t certCount(const std::string& bundle) {
  size_t n = 0;
  for (size_t at = bundle.find("BEGIN CERTIFICATE"); at != std::string::npos;
       at = bundle.find("BEGIN CERTIFICATE", at + 1))
    ++n;
  return n;
}

// New connections back to back, each one request: through `port` (an
// outbound TCP listener) every one is a fresh mTLS handshake in the mesh.
class FreshConnections {
 public:
  FreshConnections(uint16_t port, std::string want_prefix) : port_(port), want_(std::move(want_prefix)) {
    thread_ = std::thread([this] {
      const auto until = Clock::now() + 120s;
      while (!stop_ && Clock::now() < until) {
        const HttpResponse r = httpRequest(port_, "GET", "/fresh/" + std::to_string(ok_ + failed_), 3s);
        if (r.status == 200 && r.body.rfind(want_, 0) == 0) {
          ++ok_;
        } else {
          std::lock_guard lock(mu_);
          if (failed_++ == 0) first_failure_ = std::to_string(r.status) + " " + r.error + r.body;
        }
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  ~FreshConnections() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t ok() const { return ok_; }
  uint64_t failed() const { return failed_; }
  std::string firstFailure() {
    std::lock_guard lock(mu_);
    return first_failure_;
  }
  // Waits (bounded) for `n` more good connections than now.
  bool more(uint64_t n) {
    const uint64_t want = ok_ + n;
    return waitUntil([&] { return ok_ >= want || stop_; }, 10s) && ok_ >= want;
  }

 private:
  const uint16_t port_;
  const std::string want_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ok_{0}, failed_{0};
  std::mutex mu_;
  std::string first_failure_;
  std::thread thread_;
};

double okRequests(ProxyProcess& p) {
  return p.metric("sluice_identity_certificate_requests_total", {{"result", "ok"}}).value_or(0);
}

TEST_F(MeshRotation, CertificatesRotateUnderALongTransferWithNoCutRequest) {
  const std::string root_a = dir_.path() + "/ca/root.pem";
  const Presented first = presented(port("15106"), root_a);
  ASSERT_FALSE(first.serial.empty()) << "backend-v1's inbound presented no certificate";
  EXPECT_TRUE(first.verified);
  KeepAliveLoad load(port("8080"), 2, true, "", 60s);

  // The transfer: edge -> backend-v1's sidecar -> app, read at about 16 MB/s.
  RawHttpClient client(port("8080"));
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(getRequest("/huge")));
  WireReader& in = client.reader();
  const auto head = in.readUntil("\r\n\r\n", Deadline(5s), 64 * 1024);
  ASSERT_TRUE(head) << in.describeEnd();
  ASSERT_EQ(head->rfind("HTTP/1.1 200", 0), 0u) << *head;
  std::atomic<uint64_t> received{0};
  Checksum got;
  std::thread reader([&] {
    auto sink = [&](std::string_view piece) { got.update(piece.data(), piece.size()); };
    while (received < kHugeBytes) {
      const uint64_t n = in.consume(std::min<uint64_t>(64 * 1024, kHugeBytes - received), Deadline(10s), sink);
      received += n;
      if (n == 0) break;
      std::this_thread::sleep_for(4ms);
    }
  });
  struct Joined {
    std::thread& t;
    ~Joined() {
      if (t.joinable()) t.join();  // a failed assertion returns early; the reader ends within its deadlines
    }
  } joined{reader};

  // Three rounds of renewals of the backend's sidecar and the edge (the two
  // ends of the transfer's mesh hop), each waited for.
  std::string serial = first.serial;
  for (int round = 0; round < 3; ++round) {
    const double edge_ok = okRequests(proxy("edge")), backend_ok = okRequests(proxy("backend-v1"));
    for (const char* name : {"backend-v1", "edge"}) {
      const HttpResponse r = proxy(name).post("/certs/rotate");
      ASSERT_EQ(r.status, 200) << name << ": " << r.body;
    }
    ASSERT_TRUE(waitUntil([&] { return okRequests(proxy("edge")) > edge_ok; }, 10s)) << "the edge renewed nothing";
    ASSERT_TRUE(waitUntil([&] { return okRequests(proxy("backend-v1")) > backend_ok; }, 10s))
        << "backend-v1 renewed nothing";
    Presented now;
    ASSERT_TRUE(
        waitUntil([&] { return !(now = presented(port("15106"), root_a)).serial.empty() && now.serial != serial; }, 5s))
        << "round " << round << ": backend-v1 still presents serial " << serial;
    EXPECT_TRUE(now.verified);
    serial = now.serial;
  }
  const uint64_t at_last_rotation = received;
  reader.join();
  EXPECT_LT(at_last_rotation, kHugeBytes) << "the transfer ended before the rotations did: the test proved nothing";
  EXPECT_EQ(received, kHugeBytes) << in.describeEnd();
  EXPECT_EQ(got.value(), patternChecksum(kSeed, kHugeBytes)) << "the transfer was corrupted";
  ASSERT_EQ(apps_["backend-v1"]->requests().front().target, "/huge");
  // The keep-alive load crossed the edge's mesh hop throughout.
  load.stop();
  const auto t = load.totals();
  EXPECT_EQ(t.cut, 0u) << t.first_cut;
  EXPECT_GT(t.ok, 50u);
  // The rotated mesh still serves every path.
  EXPECT_EQ(httpRequest(port("8080"), "GET", "/api/after").status, 200);
  EXPECT_EQ(httpRequest(port("15102"), "GET", "/after").body, "ledger GET /after\n");
}

TEST_F(MeshRotation, TheTrustBundleMovesToANewRootWithNoFailedHandshake) {
  const std::string root_a = dir_.path() + "/ca/root.pem";
  const std::string root_b = dir_.path() + "/root-b.pem", key_b = dir_.path() + "/root-b.key";
  const CommandResult made = runCommand({"openssl",
                                         "req",
                                         "-x509",
                                         "-newkey",
                                         "ec",
                                         "-pkeyopt",
                                         "ec_paramgen_curve:P-256",
                                         "-nodes",
                                         "-days",
                                         "2",
                                         "-subj",
                                         "/O=demo.mesh/CN=operator root B",
                                         "-keyout",
                                         key_b,
                                         "-out",
                                         root_b,
                                         "-addext",
                                         "basicConstraints=critical,CA:TRUE",
                                         "-addext",
                                         "keyUsage=critical,keyCertSign,cRLSign"},
                                        20s);
  ASSERT_TRUE(exitedWith(made.status, 0)) << made.err;
  const std::vector<std::string> all = {"edge", "frontend", "backend-v1", "backend-v2", "stranger"};
  const std::string issuer_a = issuer("frontend");
  ASSERT_NE(issuer_a.find("sluice-control root"), std::string::npos) << issuer_a;
  const std::string issuer_b = "/O=demo.mesh/CN=operator root B";
  for (const auto& name : all) ASSERT_EQ(certCount(rootca(name)), 1u) << name << ": " << rootca(name);

  KeepAliveLoad load(port("8080"), 2, true, "", 120s);
  FreshConnections fresh(port("15102"), "ledger GET /fresh/");
  ASSERT_TRUE(fresh.more(20)) << fresh.firstFailure();
  auto everyBundle = [&](size_t count, bool a, bool b) {
    return waitUntil(
        [&] {
          for (const auto& name : all) {
            const std::string bundle = rootca(name);
            if (certCount(bundle) != count || holdsCert(bundle, root_a) != a || holdsCert(bundle, root_b) != b)
              return false;
          }
          return true;
        },
        10s);
  };
  auto bundles = [&] {
    std::string out;
    for (const auto& name : all) out += name + ": " + rootca(name) + "\n";
    return out;
  };

  // (a) B beside A: every proxy trusts both; certificates are still A's.
  const std::string ca_line = "  default_ttl: 24h\n";
  ASSERT_NE(yaml_.find(ca_line), std::string::npos);
  control_->writeConfig(replaceAll(yaml_, ca_line, ca_line + "  extra_roots: [" + root_b + "]\n"));
  // The sidecars' agents trust B for the CA's port too before B signs it.
  dir_.write("ca-roots.pem", readFile(root_a) + readFile(root_b));
  ASSERT_TRUE(everyBundle(2, true, true)) << bundles() << control_->stderrText();
  ASSERT_TRUE(fresh.more(20)) << fresh.firstFailure();

  // (b) A restart with B signing and A still trusted; then renewals, one
  // side at a time, so A-certificate and B-certificate proxies talk.
  const std::string signed_by_b =
      replaceAll(yaml_, ca_line,
                 ca_line + "  root: {cert: " + root_b + ", key: " + key_b + "}\n  extra_roots: [" + root_a + "]\n");
  ASSERT_TRUE(restartControl(signed_by_b));
  ASSERT_TRUE(waitUntil([&] { return control_->metric("sluice_control_proxies_connected").value_or(0) >= 5; }, 10s))
      << control_->get("/status").body;
  ASSERT_TRUE(everyBundle(2, true, true)) << bundles();
  ASSERT_TRUE(proxy("backend-v1").post("/certs/rotate").ok());
  ASSERT_TRUE(waitUntil([&] { return issuer("backend-v1") == issuer_b; }, 10s))
      << proxy("backend-v1").get("/certs").body;
  EXPECT_TRUE(presented(port("15106"), root_b).verified) << "backend-v1's new certificate chains to B";
  EXPECT_FALSE(presented(port("15106"), root_a).verified);
  EXPECT_EQ(issuer("frontend"), issuer_a);
  // The frontend (A) calls backend-v1 (B) on fresh connections, and the
  // edge (A) reaches it over HTTP.
  ASSERT_TRUE(fresh.more(20)) << fresh.firstFailure();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(httpRequest(port("8080"), "GET", "/api/x").status, 200);
  for (const auto& name : all) {
    if (name == "backend-v1") continue;
    ASSERT_TRUE(proxy(name).post("/certs/rotate").ok()) << name;
  }
  for (const auto& name : all)
    EXPECT_TRUE(waitUntil([&] { return issuer(name) == issuer_b; }, 10s))
        << name << ": " << proxy(name).get("/certs").body;
  EXPECT_TRUE(presented(port("15100"), root_b).verified) << "the frontend's new certificate chains to B";
  ASSERT_TRUE(fresh.more(20)) << fresh.firstFailure();

  // (c) A dropped: B alone, everyone already on B.
  control_->writeConfig(replaceAll(replaceAll(signed_by_b, "  extra_roots: [" + root_a + "]\n", ""),
                                   "ads:\n  address: 127.0.0.1:0", "ads:\n  address: " + control_->adsAddress()));
  ASSERT_TRUE(everyBundle(1, false, true)) << bundles() << control_->stderrText();
  ASSERT_TRUE(fresh.more(20)) << fresh.firstFailure();
  EXPECT_EQ(httpRequest(port("8080"), "GET", "/api/after").status, 200);
  EXPECT_EQ(httpRequest(port("15301"), "GET", "/after").status, 403) << "the stranger is still refused";

  fresh.stop();
  load.stop();
  EXPECT_EQ(fresh.failed(), 0u) << fresh.firstFailure();
  EXPECT_GT(fresh.ok(), 100u);
  // Each was a connection of its own across the mesh, up to the app.
  EXPECT_GE(static_cast<uint64_t>(ledger_.connections()), fresh.ok());
  const auto t = load.totals();
  EXPECT_EQ(t.cut, 0u) << t.first_cut;
  EXPECT_GT(t.ok, 50u);
}

}  // namespace
}  // namespace sluice::itest
