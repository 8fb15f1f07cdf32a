#include "tests/integration/support/upstream_fleet.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <random>
#include <sstream>

#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"

namespace sluice::itest {

using namespace std::chrono_literals;

// ---- ControlledUpstream ----

ControlledUpstream::ControlledUpstream(std::string name, std::string health_path)
    : name_(std::move(name)),
      health_path_(std::move(health_path)),
      up_([this](const UpstreamRequest& req, UpstreamExchange& ex) { handle(req, ex); }) {}

ControlledUpstream::~ControlledUpstream() {
  release();
  up_.stop();
}

void ControlledUpstream::hold() {
  std::lock_guard lk(mu_);
  held_ = true;
}

void ControlledUpstream::release() {
  {
    std::lock_guard lk(mu_);
    held_ = false;
  }
  cv_.notify_all();
}

void ControlledUpstream::handle(const UpstreamRequest& req, UpstreamExchange& ex) {
  const HeaderList headers{{"x-upstream", name_}};
  if (req.target == health_path_) {
    ++health_checks_;
    if (down_) return ex.reset();
    ex.respond(health_status_.load(), name_ + "\n", headers);
    return;
  }
  ++served_;
  if (down_) {
    ++failed_;
    return ex.reset();
  }
  const int now = ++in_flight_;
  int seen = max_in_flight_.load();
  while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
  }
  if (const long long d = delay_ms_.load(); d > 0) std::this_thread::sleep_for(Millis(d));
  {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, 20s, [&] { return !held_; });
  }
  int status = status_.load();
  if (const int pct = fail_percent_.load(); pct > 0) {
    thread_local std::mt19937 rng(std::random_device{}());
    if (static_cast<int>(rng() % 100) < pct) status = 503;
  }
  if (status >= 500) ++failed_;
  --in_flight_;
  ex.respond(status, name_ + "\n", headers);
}

// ---- BackendProcess ----

namespace {

std::string makeTempDir() {
  std::string tmpl = "/tmp/sluice-backend-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return "/tmp";
  return tmpl;
}

}  // namespace

BackendProcess::BackendProcess(std::string name) : name_(std::move(name)), dir_(makeTempDir()) {}

BackendProcess::~BackendProcess() {
  kill();
  if (dir_ != "/tmp") {
    ::unlink((dir_ + "/out").c_str());
    ::unlink((dir_ + "/err").c_str());
    ::rmdir(dir_.c_str());
  }
}

::testing::AssertionResult BackendProcess::start(Millis timeout) {
  if (pid_ > 0) return ::testing::AssertionFailure() << name_ << " is already running";
  const std::string out = dir_ + "/out", err = dir_ + "/err";
  const std::string listening = "listening on 127.0.0.1:";
  Deadline deadline(timeout);
  std::string last_err;
  while (!deadline.expired()) {
    pid_ = spawnCommand({SLUICE_BACKEND_BIN, "--listen", "127.0.0.1:" + std::to_string(port_), "--name", name_}, out,
                        err);
    if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed for " << name_;
    // Until it prints its address (up) or exits (the port is taken: try again).
    const ChildReady ready = waitForReadyLine(pid_, out, listening, 3s);
    if (ready.port) {
      port_ = *ready.port;
      return ::testing::AssertionSuccess();
    }
    if (ready.exit_status) {
      pid_ = -1;
      last_err = readFile(err);
    }
    if (pid_ > 0) kill();
    std::this_thread::sleep_for(100ms);
  }
  return ::testing::AssertionFailure() << "backend " << name_ << " did not start on port " << port_ << ": " << last_err;
}

void BackendProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

// ---- Clients ----

namespace {

std::string upstreamOf(const HttpReply& r) {
  if (auto u = r.header("x-upstream")) return *u;
  if (auto b = r.header("x-backend")) return *b;
  return "";
}

// One keep-alive client that reconnects when a response does not leave the
// connection usable.
class LoopClient {
 public:
  explicit LoopClient(uint16_t port) : port_(port) {}
  Outcome get(const std::string& path, const HeaderList& headers) {
    Outcome o;
    o.started = Clock::now();
    if (!client_ || !client_->connected()) client_ = std::make_unique<RawHttpClient>(port_);
    if (!client_->connected()) {
      client_.reset();
      return o;
    }
    HttpReply r = client_->roundTrip(getRequest(path, "example.com", headers), 10s);
    if (r.complete) {
      o.status = r.status;
      o.upstream = upstreamOf(r);
    }
    if (!r.complete || hasClose(r)) client_.reset();
    return o;
  }

 private:
  static bool hasClose(const HttpReply& r) {
    auto c = r.header("connection");
    return c && c->find("close") != std::string::npos;
  }
  uint16_t port_;
  std::unique_ptr<RawHttpClient> client_;
};

}  // namespace

size_t Tally::count(int status) const {
  return static_cast<size_t>(
      std::count_if(outcomes.begin(), outcomes.end(), [&](const Outcome& o) { return o.status == status; }));
}

size_t Tally::errors() const { return outcomes.size() - count(200); }

std::map<std::string, size_t> Tally::byUpstream() const {
  std::map<std::string, size_t> m;
  for (const auto& o : outcomes)
    if (o.status == 200) ++m[o.upstream];
  return m;
}

size_t Tally::to(const std::string& upstream) const {
  auto m = byUpstream();
  auto it = m.find(upstream);
  return it == m.end() ? 0 : it->second;
}

std::string Tally::describe() const {
  std::map<int, size_t> statuses;
  for (const auto& o : outcomes) ++statuses[o.status];
  std::ostringstream s;
  s << "n=" << outcomes.size() << ", statuses {";
  for (const auto& [st, n] : statuses) s << " " << st << ":" << n;
  s << " }, upstreams {";
  for (const auto& [u, n] : byUpstream()) s << " " << u << ":" << n;
  s << " }";
  return s.str();
}

Tally sendRequests(uint16_t port, size_t n, size_t connections, const std::string& path,
                   const std::function<HeaderList(size_t)>& headers) {
  connections = std::max<size_t>(1, std::min(connections, n));
  std::atomic<size_t> next{0};
  std::mutex mu;
  Tally tally;
  std::vector<std::thread> threads;
  for (size_t c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      LoopClient client(port);
      for (size_t i = next++; i < n; i = next++) {
        Outcome o = client.get(path, headers ? headers(i) : HeaderList{});
        std::lock_guard lk(mu);
        tally.outcomes.push_back(std::move(o));
      }
    });
  }
  for (auto& t : threads) t.join();
  return tally;
}

SteadyLoad::SteadyLoad(uint16_t port, size_t connections, std::string path) {
  for (size_t c = 0; c < connections; ++c) threads_.emplace_back([this, port, path] { run(port, path); });
}

void SteadyLoad::run(uint16_t port, std::string path) {
  LoopClient client(port);
  while (!stop_.load()) {
    Outcome o = client.get(path, {});
    std::lock_guard lk(mu_);
    outcomes_.push_back(std::move(o));
  }
}

void SteadyLoad::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

size_t SteadyLoad::completed() const {
  std::lock_guard lk(mu_);
  return outcomes_.size();
}

std::vector<Outcome> SteadyLoad::snapshot() const {
  std::lock_guard lk(mu_);
  return outcomes_;
}

bool SteadyLoad::waitStartedAfter(Clock::time_point since, size_t n, Millis timeout) const {
  return waitUntil([&] { return startedAfter(snapshot(), since).size() >= n; }, timeout);
}

std::vector<Outcome> startedAfter(const std::vector<Outcome>& outcomes, Clock::time_point since) {
  std::vector<Outcome> out;
  for (const auto& o : outcomes)
    if (o.started >= since) out.push_back(o);
  return out;
}

// ---- Config ----

std::string weightedEndpoints(const std::vector<Endpoint>& endpoints) {
  std::string s = "[";
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const auto& e = endpoints[i];
    if (i) s += ", ";
    s += "{address: 127.0.0.1:" + std::to_string(e.port) + ", weight: " + std::to_string(e.weight) +
         ", priority: " + std::to_string(e.priority) + "}";
  }
  return s + "]";
}

std::string endpointsFlow(const std::vector<uint16_t>& ports) {
  std::vector<Endpoint> eps;
  for (uint16_t p : ports) eps.push_back({p});
  return weightedEndpoints(eps);
}

namespace {

std::string indent(const std::string& yaml, const std::string& prefix) {
  std::istringstream in(dedent(yaml));
  std::string line, out;
  while (std::getline(in, line)) out += prefix + line + "\n";
  return out;
}

}  // namespace

std::string upstreamConfig(const std::string& http_yaml, const std::string& clusters_yaml, int workers) {
  return "admin: {address: 127.0.0.1:0}\n"
         "workers: " + std::to_string(workers) + "\n"
         "listeners:\n"
         "  - name: web\n"
         "    address: 127.0.0.1:0\n"
         "    http:\n" + indent(http_yaml, "      ") +
         "clusters:\n" + indent(clusters_yaml, "  ");
}

std::string routeAllTo(const std::string& cluster, const std::string& access_log) {
  std::string y;
  if (!access_log.empty()) y += "access_log: {path: " + access_log + ", format: json}\n";
  return y + routeByPrefix({{"/", "{cluster: " + cluster + "}"}});
}

std::string routeByPrefix(const std::vector<std::pair<std::string, std::string>>& routes) {
  std::string y = "route_config:\n"
                  "  virtual_hosts:\n"
                  "    - name: all\n"
                  "      domains: [\"*\"]\n"
                  "      routes:\n";
  for (const auto& [prefix, route] : routes)
    y += "        - match: {prefix: " + prefix + "}\n"
         "          route: " + route + "\n";
  return y;
}

// ---- /clusters ----

std::optional<std::string> clusterField(const ProxyProcess& proxy, const std::string& cluster,
                                        const std::string& host, const std::string& field) {
  HttpResponse r = proxy.get("/clusters");
  if (!r.ok() || r.status != 200) return std::nullopt;
  const std::string prefix = cluster + "::" + host + "::" + field + "::";
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return std::nullopt;
}

::testing::AssertionResult waitClusterField(const ProxyProcess& proxy, const std::string& cluster,
                                            const std::string& host, const std::string& field,
                                            const std::function<bool(const std::string&)>& pred,
                                            const std::string& expectation, Millis timeout) {
  std::string last;
  Deadline deadline(timeout);
  for (;;) {
    last = clusterField(proxy, cluster, host, field).value_or("");
    if (pred(last)) return ::testing::AssertionSuccess();
    if (deadline.expired()) break;
    std::this_thread::sleep_for(10ms);
  }
  return ::testing::AssertionFailure() << cluster << "::" << host << "::" << field << " never became " << expectation
                                       << " within " << timeout.count() << " ms; last value '" << last
                                       << "'; /clusters:\n"
                                       << proxy.get("/clusters").body;
}

::testing::AssertionResult waitClusterFieldEq(const ProxyProcess& proxy, const std::string& cluster,
                                              const std::string& host, const std::string& field,
                                              const std::string& want, Millis timeout) {
  return waitClusterField(
      proxy, cluster, host, field, [&](const std::string& v) { return v == want; }, "'" + want + "'", timeout);
}

::testing::AssertionResult waitHealthy(const ProxyProcess& proxy, const std::string& cluster, const std::string& host,
                                       Millis timeout) {
  return waitClusterFieldEq(proxy, cluster, host, "health_flags", "healthy", timeout);
}

::testing::AssertionResult waitFailedActiveHc(const ProxyProcess& proxy, const std::string& cluster,
                                              const std::string& host, Millis timeout) {
  return waitClusterField(
      proxy, cluster, host, "health_flags",
      [](const std::string& v) { return v.find("/failed_active_hc") != std::string::npos; }, "/failed_active_hc",
      timeout);
}

::testing::AssertionResult waitChecked(const ProxyProcess& proxy, const std::string& cluster, const std::string& host,
                                       Millis timeout) {
  // "N ok, M failed"
  return waitClusterField(
      proxy, cluster, host, "health_checks", [](const std::string& v) { return !v.empty() && v[0] != '0'; },
      "at least one passed check", timeout);
}

}  // namespace sluice::itest
