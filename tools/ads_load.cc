// sluice-ads-load: many simulated proxies in one process, each a real ADS
// stream (gRPC C++ callback API), for the control plane's benchmarks
// (bench/xds_converge.sh, bench/mesh_converge.sh). Not part of the tests.
//
//   sluice-ads-load --target 127.0.0.1:15010 [--proxies 1000] [--delta]
//                   [--per-channel 100] [--cluster bench] [--node-ids FILE]
//                   [--timeout 60] [--ca-target HOST:PORT --ca-root FILE]
//
// Each stream is one proxy (node id bench-00000..., or the ids of
// --node-ids, one a line, such as a mesh's "<workload>.<namespace>"; node
// cluster from --cluster) subscribing as a sluice sidecar does: Listener and
// Cluster by wildcard, then the RouteConfiguration names its listeners'
// HTTP connection managers ask for over RDS, the ClusterLoadAssignment names
// its EDS clusters ask for, and the Secrets their TLS contexts name over SDS
// (but "default", the proxy's own certificate, which its certificate agent
// gets from the CA), ACKing every response (state of the world: version and
// nonce; delta: nonce). Streams are spread over channels of --per-channel
// streams, each channel its own TCP connection.
//
// Protocol with the driver:
//   stdout "ready N IN_MS": every stream has ACKed every type it asked for,
//          with at least one listener (the versions ACKed then are each
//          stream's baseline);
//   stdin  "edit UNIX_NS [FILE]": the moment the driver changed the input,
//          and the node ids the change must reach (default: every proxy);
//   stdout the per-proxy time from that moment until the proxy ACKed a
//          version of any type that differs from its baseline, as
//          "converged K of N p50 X ms p99 Y ms max Z ms" (N: the proxies
//          to reach), then "pushed P of M proxies, U outside the expected
//          set" and "responses after ready: ..." (how many of each type);
//   stdin  "workload NODE_ID TOKEN UNIX_NS" (any number): a workload added
//          at that moment; a new stream for it, and a CreateCertificate
//          call (a fresh P-256 key's CSR, the bootstrap token) to
//          --ca-target over TLS verified against --ca-root (the mesh root;
//          "-": plaintext); stdout "workload NODE_ID config X ms certificate Y ms
//          (N attempts)": until its first ACKed config with a listener, and
//          until the CA's answer;
//   stdin  closed: the streams are cancelled and the process exits,
//          0 when every measurement completed within --timeout seconds.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "sluice/ca/v1/certificate_service.grpc.pb.h"
#include "tools/ads_load_csr.h"

namespace {

namespace discovery = envoy::service::discovery::v3;
namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tls_v3 = envoy::extensions::transport_sockets::tls::v3;

constexpr const char* kCds = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr const char* kEds = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
constexpr const char* kLds = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr const char* kRds = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
constexpr const char* kSds = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
// Index of each type in the per-type arrays below.
enum TypeIndex { kCdsI, kEdsI, kLdsI, kRdsI, kSdsI, kTypes };
constexpr std::array<const char*, kTypes> kTypeUrls = {kCds, kEds, kLds, kRds, kSds};
constexpr std::array<const char*, kTypes> kTypeNames = {"CDS", "EDS", "LDS", "RDS", "SDS"};
// A sidecar's own certificate comes from its certificate agent, never over
// SDS: it does not ask for it (the mesh's name for it, as Istio's).
constexpr const char* kLocalSecret = "default";

int typeIndex(const std::string& url) {
  for (int i = 0; i < kTypes; ++i)
    if (url == kTypeUrls[i]) return i;
  return -1;
}

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What every stream reports to the main thread.
struct Tally {
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  int converged = 0;
  int pushed = 0;  // proxies sent a new version of any type once ready
  int failed = 0;  // streams that ended (the server closed or refused them)
  int done = 0;    // streams whose OnDone ran
  std::string first_failure;
  std::array<std::atomic<uint64_t>, kTypes> after_ready{};  // responses received once ready

  void bump(int Tally::*field) {
    std::lock_guard lock(mu);
    ++(this->*field);
    cv.notify_all();
  }
};

// The secrets a TLS transport socket names over SDS (but the local one).
void secretNames(const envoy::config::core::v3::TransportSocket& ts, std::set<std::string>& out) {
  if (!ts.has_typed_config()) return;
  const tls_v3::CommonTlsContext* common = nullptr;
  tls_v3::DownstreamTlsContext down;
  tls_v3::UpstreamTlsContext up;
  if (ts.typed_config().UnpackTo(&down))
    common = &down.common_tls_context();
  else if (ts.typed_config().UnpackTo(&up))
    common = &up.common_tls_context();
  if (common == nullptr) return;
  for (const auto& s : common->tls_certificate_sds_secret_configs()) out.insert(s.name());
  if (common->has_validation_context_sds_secret_config())
    out.insert(common->validation_context_sds_secret_config().name());
  if (common->has_combined_validation_context())
    out.insert(common->combined_validation_context().validation_context_sds_secret_config().name());
  out.erase(kLocalSecret);
  out.erase("");
}

// The names a Listener's HTTP connection managers ask RDS for.
void routeNames(const google::protobuf::Any& any, std::set<std::string>& out, std::set<std::string>& secrets) {
  envoy::config::listener::v3::Listener l;
  if (!any.UnpackTo(&l)) return;
  for (const auto& fc : l.filter_chains())
    if (fc.has_transport_socket()) secretNames(fc.transport_socket(), secrets);
  auto fromHcm = [&](const google::protobuf::Any& typed) {
    hcm_v3::HttpConnectionManager hcm;
    if (typed.UnpackTo(&hcm) && hcm.has_rds()) out.insert(hcm.rds().route_config_name());
  };
  if (l.has_api_listener()) fromHcm(l.api_listener().api_listener());
  for (const auto& fc : l.filter_chains())
    for (const auto& f : fc.filters())
      if (f.has_typed_config()) fromHcm(f.typed_config());
}

// The ClusterLoadAssignment an EDS cluster asks for (its service_name, or its own name).
void endpointNames(const google::protobuf::Any& any, std::set<std::string>& out, std::set<std::string>& secrets) {
  envoy::config::cluster::v3::Cluster c;
  if (!any.UnpackTo(&c)) return;
  if (c.has_transport_socket()) secretNames(c.transport_socket(), secrets);
  if (c.type() != envoy::config::cluster::v3::Cluster::EDS) return;
  const std::string& service = c.eds_cluster_config().service_name();
  out.insert(service.empty() ? c.name() : service);
}

// One simulated proxy. Reactions run on gRPC's callback threads, possibly
// two at once (a read and a write completing): state is under mu_. One
// write in flight at a time; the rest wait in out_.
template <class Request, class Response>
class Proxy : public grpc::ClientBidiReactor<Request, Response> {
 public:
  Proxy(std::string node_id, std::string node_cluster, Tally& tally)
      : node_id_(std::move(node_id)), node_cluster_(std::move(node_cluster)), tally_(tally) {}

  void start(discovery::AggregatedDiscoveryService::Stub& stub) {
    if constexpr (kDelta) {
      stub.async()->DeltaAggregatedResources(&context_, this);
    } else {
      stub.async()->StreamAggregatedResources(&context_, this);
    }
    {
      std::lock_guard lock(mu_);
      // Wildcard Listener and Cluster; the first request carries the node.
      Request cds = subscribe(kCdsI, {}, {});
      auto* node = cds.mutable_node();
      node->set_id(node_id_);
      node->set_cluster(node_cluster_);
      enqueue(std::move(cds), false);
      enqueue(subscribe(kLdsI, {}, {}), false);
    }
    this->StartRead(&response_);
    this->StartCall();
    pump();
  }

  void cancel() {
    cancelled_ = true;
    context_.TryCancel();
  }

  int64_t convergedAt() {
    std::lock_guard lock(mu_);
    return converged_at_;
  }

  int64_t readyAt() {
    std::lock_guard lock(mu_);
    return ready_at_;
  }

  const std::string& nodeId() const { return node_id_; }

 private:
  static constexpr bool kDelta = std::is_same_v<Request, discovery::DeltaDiscoveryRequest>;

  struct Outgoing {
    Request request;
    bool converging = false;  // the ACK that makes this proxy converged
  };

  struct TypeState {
    std::string version_acked;  // SotW version_info / delta system_version_info
    std::string nonce;          // the latest response's (SotW: sent back with every request)
    bool acked = false;
    bool waiting = false;                                      // a subscription change is not answered yet
    std::set<std::string> names;                               // EDS/RDS: what is subscribed
    std::map<std::string, std::set<std::string>> refs;         // CDS/LDS (delta): resource -> names it refers to
    std::map<std::string, std::set<std::string>> secret_refs;  // CDS/LDS: resource -> secrets it names
    size_t resources = 0;                                      // CDS/LDS: how many the proxy holds
  };

  // Under mu_: every type ACKed, nothing asked for left unanswered, and at
  // least one listener (a proxy the control plane does not know yet gets
  // none: it is not configured).
  bool synced() const {
    for (int i = 0; i < kTypes; ++i) {
      const TypeState& s = types_[i];
      const bool named = i == kEdsI || i == kRdsI || i == kSdsI;
      if (s.waiting || !(s.acked || (named && s.names.empty()))) return false;
    }
    return types_[kLdsI].resources > 0;
  }

  // A request changing the subscription of `type` (SotW: the whole set of
  // names; delta: what to add and remove).
  Request subscribe(int type, const std::set<std::string>& add, const std::set<std::string>& remove) {
    Request r;
    r.set_type_url(kTypeUrls[type]);
    TypeState& t = types_[type];
    if constexpr (kDelta) {
      for (const auto& n : add) r.add_resource_names_subscribe(n);
      for (const auto& n : remove) r.add_resource_names_unsubscribe(n);
    } else {
      for (const auto& n : t.names) r.add_resource_names(n);
      r.set_version_info(t.version_acked);
      r.set_response_nonce(t.nonce);
    }
    return r;
  }

  void enqueue(Request r, bool converging) { out_.push_back(Outgoing{std::move(r), converging}); }

  // Starts the next write if none is in flight (outside mu_: a reaction may run inline).
  void pump() {
    const Request* next = nullptr;
    {
      std::lock_guard lock(mu_);
      if (writing_ || out_.empty() || done_) return;
      inflight_ = std::move(out_.front());
      out_.pop_front();
      writing_ = true;
      next = &inflight_.request;
    }
    this->StartWrite(next);
  }

  // Under mu_: `type`'s subscription becomes `want` (EDS and RDS follow CDS and LDS).
  void follow(int type, std::set<std::string> want) {
    TypeState& t = types_[type];
    if (want == t.names) return;
    std::set<std::string> add, remove;
    std::set_difference(want.begin(), want.end(), t.names.begin(), t.names.end(), std::inserter(add, add.end()));
    std::set_difference(t.names.begin(), t.names.end(), want.begin(), want.end(), std::inserter(remove, remove.end()));
    t.names = std::move(want);
    t.waiting = true;
    enqueue(subscribe(type, add, remove), false);
  }

  // Under mu_: what one response asks of this proxy.
  void take(const Response& r) {
    const int type = typeIndex(r.type_url());
    if (type < 0) return;
    TypeState& t = types_[type];
    if (ready_) tally_.after_ready[type].fetch_add(1, std::memory_order_relaxed);
    std::string version;
    if constexpr (kDelta) {
      version = r.system_version_info();
      if (type == kCdsI || type == kLdsI) {
        for (const auto& name : r.removed_resources()) {
          t.refs.erase(name);
          t.secret_refs.erase(name);
        }
        for (const auto& res : r.resources()) {
          std::set<std::string>& refs = t.refs[res.name()];
          std::set<std::string>& secrets = t.secret_refs[res.name()];
          refs.clear();
          secrets.clear();
          if (type == kCdsI)
            endpointNames(res.resource(), refs, secrets);
          else
            routeNames(res.resource(), refs, secrets);
        }
        t.resources = t.refs.size();
      }
    } else {
      version = r.version_info();
      if (type == kCdsI || type == kLdsI) {
        // The whole set every time: what it refers to is all there is.
        t.refs.clear();
        t.secret_refs.clear();
        std::set<std::string>& refs = t.refs["*"];
        std::set<std::string>& secrets = t.secret_refs["*"];
        for (const auto& res : r.resources()) {
          if (type == kCdsI)
            endpointNames(res, refs, secrets);
          else
            routeNames(res, refs, secrets);
        }
        t.resources = static_cast<size_t>(r.resources_size());
      }
    }
    t.nonce = r.nonce();
    t.version_acked = version;
    t.acked = true;
    t.waiting = false;

    const bool converging = ready_ && converged_at_ == 0 && version != baseline_[type];
    if (converging && !pushed_) {
      pushed_ = true;
      tally_.bump(&Tally::pushed);
    }
    Request ack;
    ack.set_type_url(r.type_url());
    ack.set_response_nonce(r.nonce());
    if constexpr (!kDelta) {
      ack.set_version_info(version);
      for (const auto& n : t.names) ack.add_resource_names(n);
    }
    enqueue(std::move(ack), converging);

    if (type == kCdsI || type == kLdsI) {
      std::set<std::string> want;
      for (const auto& [name, refs] : t.refs) want.insert(refs.begin(), refs.end());
      follow(type == kCdsI ? kEdsI : kRdsI, std::move(want));
      std::set<std::string> secrets;
      for (int i : {kCdsI, kLdsI})
        for (const auto& [name, refs] : types_[i].secret_refs) secrets.insert(refs.begin(), refs.end());
      follow(kSdsI, std::move(secrets));
    }
    if (!ready_) {
      if (synced()) {
        ready_ = true;
        ready_at_ = nowNs();
        for (int i = 0; i < kTypes; ++i) baseline_[i] = types_[i].version_acked;
        tally_.bump(&Tally::ready);
      }
    }
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream is ending; OnDone follows
    {
      std::lock_guard lock(mu_);
      take(response_);
    }
    pump();
    this->StartRead(&response_);
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (ok && inflight_.converging) {
        converged_at_ = nowNs();
        tally_.bump(&Tally::converged);
      }
    }
    if (ok) pump();
  }

  void OnDone(const grpc::Status& status) override {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    std::lock_guard lock(tally_.mu);
    if (!cancelled_.load()) {
      ++tally_.failed;
      if (tally_.first_failure.empty())
        tally_.first_failure = node_id_ + ": " + std::to_string(status.error_code()) + " " + status.error_message();
    }
    ++tally_.done;
    tally_.cv.notify_all();
  }

  const std::string node_id_;
  const std::string node_cluster_;
  Tally& tally_;
  std::atomic<bool> cancelled_{false};
  grpc::ClientContext context_;
  Response response_;  // the read buffer; one read at a time

  std::mutex mu_;
  std::array<TypeState, kTypes> types_;
  std::array<std::string, kTypes> baseline_;
  bool ready_ = false;
  bool pushed_ = false;
  int64_t ready_at_ = 0;
  int64_t converged_at_ = 0;
  std::deque<Outgoing> out_;
  Outgoing inflight_;
  bool writing_ = false;
  bool done_ = false;
};

struct Options {
  std::string target;
  int proxies = 1000;
  int per_channel = 100;
  bool delta = false;
  std::string cluster = "bench";
  std::string node_ids;  // a file of node ids, one a line; default bench-00000...
  int timeout_s = 60;
  std::string ca_target;
  std::string ca_root;  // PEM file; "-": plaintext
};

int usage() {
  std::fputs(
      "usage: sluice-ads-load --target HOST:PORT [--proxies N] [--delta] [--per-channel N]\n"
      "                       [--cluster NAME] [--node-ids FILE] [--timeout SECONDS]\n"
      "                       [--ca-target HOST:PORT --ca-root FILE|-]\n",
      stderr);
  return 2;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::vector<std::string> nodeIds(const Options& o) {
  std::vector<std::string> ids;
  if (!o.node_ids.empty()) {
    std::ifstream in(o.node_ids);
    for (std::string id; std::getline(in, id);)
      if (!id.empty()) ids.push_back(id);
  }
  for (int i = static_cast<int>(ids.size()); i < o.proxies; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "bench-%05d", i);
    ids.push_back(id);
  }
  return ids;
}

// A certificate from the mesh CA, as a certificate agent asks for one: a
// fresh key's CSR and the bootstrap token. Retried until the deadline.
struct Issued {
  int64_t at = 0;  // when the successful answer arrived; 0: none
  int attempts = 0;
  std::string error;  // the last failure
};

Issued certify(const std::shared_ptr<grpc::Channel>& channel, const std::string& node, const std::string& token,
               std::chrono::steady_clock::time_point deadline) {
  Issued out;
  auto stub = sluice::ca::v1::CertificateService::NewStub(channel);
  while (std::chrono::steady_clock::now() < deadline) {
    ++out.attempts;
    sluice::ca::v1::CreateCertificateRequest req;
    req.set_csr(sluice::tools::makeP256Csr(node, out.error));
    if (req.csr().empty()) return out;
    sluice::ca::v1::CreateCertificateResponse resp;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    const grpc::Status st = stub->CreateCertificate(&ctx, req, &resp);
    if (st.ok() && resp.cert_chain_size() > 0) {
      out.at = nowNs();
      out.error.clear();
      return out;
    }
    out.error = std::to_string(st.error_code()) + " " + st.error_message();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return out;
}

template <class Request, class Response>
int run(const Options& o) {
  using P = Proxy<Request, Response>;
  Tally tally;
  const int channels = (o.proxies + o.per_channel - 1) / o.per_channel;
  std::vector<std::shared_ptr<grpc::Channel>> chans;
  std::vector<std::unique_ptr<discovery::AggregatedDiscoveryService::Stub>> stubs;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    // Distinct arguments and a pool of its own: each channel opens its own
    // connection instead of sharing one subchannel with the others.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("sluice.bench.channel", c);
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    chans.push_back(grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(discovery::AggregatedDiscoveryService::NewStub(chans.back()));
  }

  std::vector<std::string> ids = nodeIds(o);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<P>> proxies;
  proxies.reserve(o.proxies);
  for (int i = 0; i < o.proxies; ++i) {
    proxies.push_back(std::make_unique<P>(ids[i], o.cluster, tally));
    proxies.back()->start(*stubs[i / o.per_channel]);
  }
  // Proxies that join later (a new workload): their own tally.
  Tally late;
  std::vector<std::unique_ptr<P>> joined;
  const auto deadline = [&] { return std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s); };

  // Every stream cancelled and gone before the reactors are freed; one
  // that does not end in time leaves the process by _Exit instead.
  auto finish = [&](int rc) {
    for (auto& p : proxies) p->cancel();
    for (auto& p : joined) p->cancel();
    const auto gone = [](Tally& t, int n) {
      std::unique_lock lock(t.mu);
      return t.cv.wait_for(lock, std::chrono::seconds(10), [&] { return t.done >= n; });
    };
    if (!gone(tally, o.proxies) || !gone(late, static_cast<int>(joined.size()))) {
      std::fflush(stdout);
      std::_Exit(rc);
    }
    return rc;
  };

  {
    std::unique_lock lock(tally.mu);
    const bool ok = tally.cv.wait_until(lock, deadline(), [&] { return tally.ready + tally.failed >= o.proxies; });
    if (!ok || tally.ready < o.proxies) {
      std::printf("not ready: %d of %d streams synced, %d failed%s%s\n", tally.ready, o.proxies, tally.failed,
                  tally.first_failure.empty() ? "" : "; first: ", tally.first_failure.c_str());
      std::fflush(stdout);
      lock.unlock();
      return finish(1);
    }
  }
  const double ready_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("ready %d %.0f\n", o.proxies, ready_ms);
  std::fflush(stdout);

  std::string line;
  int64_t edit_ns = 0;
  char expect_path[4096] = {};
  while (std::getline(std::cin, line)) {
    if (std::sscanf(line.c_str(), "edit %" SCNd64 " %4095s", &edit_ns, expect_path) >= 1) break;
  }
  if (edit_ns == 0) {
    std::fputs("sluice-ads-load: no \"edit UNIX_NS\" line on stdin\n", stderr);
    return finish(1);
  }
  // The proxies the edit must reach: those named in the file, or all.
  std::set<std::string> expected;
  if (expect_path[0] != '\0') {
    std::ifstream in(expect_path);
    for (std::string id; std::getline(in, id);)
      if (!id.empty()) expected.insert(id);
  }
  const bool all = expected.empty();
  const int want = all ? o.proxies : static_cast<int>(expected.size());
  std::vector<P*> awaited;
  for (auto& p : proxies)
    if (all || expected.count(p->nodeId())) awaited.push_back(p.get());
  // A proxy's state is looked at without tally.mu held: a proxy takes its
  // own lock, then the tally's.
  for (const auto until = deadline(); std::chrono::steady_clock::now() < until;) {
    if (std::all_of(awaited.begin(), awaited.end(), [](P* p) { return p->convergedAt() != 0; })) break;
    std::unique_lock lock(tally.mu);
    if (tally.failed >= want) break;
    tally.cv.wait_for(lock, std::chrono::milliseconds(5));
  }
  std::vector<double> ms;
  for (P* p : awaited) {
    const int64_t at = p->convergedAt();
    if (at != 0) ms.push_back(static_cast<double>(at - edit_ns) / 1e6);
  }
  std::sort(ms.begin(), ms.end());
  // Stragglers outside the expected set would be a push too many: give them a moment.
  if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int got = static_cast<int>(ms.size());
  std::printf("converged %d of %d p50 %.1f ms p99 %.1f ms max %.1f ms\n", got, want, percentile(ms, 50),
              percentile(ms, 99), ms.empty() ? 0.0 : ms.back());
  {
    int outside = 0;
    for (auto& p : proxies)
      if (!all && !expected.count(p->nodeId()) && p->convergedAt() != 0) ++outside;
    std::lock_guard lock(tally.mu);
    std::printf("pushed %d of %d proxies, %d outside the expected set\n", tally.pushed, o.proxies, outside);
  }
  std::printf("responses after ready:");
  for (int i = 0; i < kTypes; ++i) std::printf(" %s %" PRIu64, kTypeNames[i], tally.after_ready[i].load());
  std::printf("\n");
  {
    std::lock_guard lock(tally.mu);
    if (tally.failed) std::printf("failed streams: %d; first: %s\n", tally.failed, tally.first_failure.c_str());
  }
  std::fflush(stdout);
  std::shared_ptr<grpc::Channel> ca_channel;
  if (!o.ca_target.empty()) {
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (o.ca_root != "-") {
      std::ifstream in(o.ca_root);
      std::stringstream pem;
      pem << in.rdbuf();
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = pem.str();
      creds = grpc::SslCredentials(ssl);
    }
    ca_channel = grpc::CreateChannel(o.ca_target, creds);
  }
  // Then, until stdin closes (the streams stay up while the driver looks at
  // the control plane): "workload NODE_ID TOKEN UNIX_NS", a proxy that
  // joins, timed from the moment its workload was added to the mesh.
  bool joined_ok = true;
  while (std::getline(std::cin, line)) {
    char node[256] = {}, token[1024] = {};
    int64_t added_ns = 0;
    if (std::sscanf(line.c_str(), "workload %255s %1023s %" SCNd64, node, token, &added_ns) != 3) continue;
    joined.push_back(std::make_unique<P>(node, o.cluster, late));
    joined.back()->start(*stubs.back());
    if (!ca_channel) {
      std::fprintf(stderr, "sluice-ads-load: a workload line needs --ca-target and --ca-root\n");
      joined_ok = false;
      continue;
    }
    const Issued cert = certify(ca_channel, node, token, deadline());
    bool synced = false;
    {
      std::unique_lock lock(late.mu);
      synced = late.cv.wait_until(lock, deadline(), [&] { return late.ready + late.failed >= 1; }) && late.ready >= 1;
    }
    const int64_t ready_at = joined.back()->readyAt();
    std::printf("workload %s config %.1f ms certificate %.1f ms (%d attempt%s%s%s)\n", node,
                synced ? static_cast<double>(ready_at - added_ns) / 1e6 : -1.0,
                cert.at ? static_cast<double>(cert.at - added_ns) / 1e6 : -1.0, cert.attempts,
                cert.attempts == 1 ? "" : "s", cert.error.empty() ? "" : "; ", cert.error.c_str());
    std::fflush(stdout);
    joined_ok = joined_ok && synced && cert.at != 0;
  }
  return finish(got == want && joined_ok ? 0 : 1);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--delta") {
      o.delta = true;
    } else if (a == "--target" && (v = value())) {
      o.target = v;
    } else if (a == "--proxies" && (v = value())) {
      o.proxies = std::atoi(v);
    } else if (a == "--per-channel" && (v = value())) {
      o.per_channel = std::atoi(v);
    } else if (a == "--cluster" && (v = value())) {
      o.cluster = v;
    } else if (a == "--node-ids" && (v = value())) {
      o.node_ids = v;
    } else if (a == "--timeout" && (v = value())) {
      o.timeout_s = std::atoi(v);
    } else if (a == "--ca-target" && (v = value())) {
      o.ca_target = v;
    } else if (a == "--ca-root" && (v = value())) {
      o.ca_root = v;
    } else {
      return usage();
    }
  }
  if (o.target.empty() || o.proxies <= 0 || o.per_channel <= 0 || o.timeout_s <= 0) return usage();
  if (o.ca_target.empty() != o.ca_root.empty()) return usage();
  return o.delta ? run<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>(o)
                 : run<discovery::DiscoveryRequest, discovery::DiscoveryResponse>(o);
}
