// sluice-ads-load: many simulated proxies in one process, each a real ADS
// stream (gRPC C++ callback API), for the control plane's convergence
// benchmark (bench/xds_converge.sh). Not part of the tests.
//
//   sluice-ads-load --target 127.0.0.1:15010 [--proxies 1000] [--delta]
//                   [--per-channel 100] [--cluster bench] [--timeout 60]
//
// Each stream is one proxy (node id bench-00000..., node cluster from
// --cluster) subscribing as a sidecar does: Listener and Cluster by
// wildcard, then the RouteConfiguration names its listeners' HTTP
// connection managers ask for over RDS and the ClusterLoadAssignment names
// its EDS clusters ask for, ACKing every response (state of the world:
// version and nonce; delta: nonce). Streams are spread over channels of
// --per-channel streams, each channel its own TCP connection.
//
// Protocol with the driver:
//   stdout "ready N IN_MS": every stream has ACKed all four types (the
//          versions ACKed then are each stream's baseline);
//   stdin  "edit UNIX_NS": the moment the driver changed the input;
//   stdout the per-proxy time from that moment until the proxy ACKed a
//          version of any type that differs from its baseline, as
//          "converged K of N p50 X ms p99 Y ms max Z ms", followed by
//          "responses after ready: ..." (how many of each type arrived);
//   stdin  closed: the streams are cancelled and the process exits,
//          0 when all N converged within --timeout seconds, 1 otherwise.

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
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace {

namespace discovery = envoy::service::discovery::v3;
namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;

constexpr const char* kCds = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr const char* kEds = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
constexpr const char* kLds = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr const char* kRds = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
// Index of each type in the per-type arrays below.
enum TypeIndex { kCdsI, kEdsI, kLdsI, kRdsI, kTypes };
constexpr std::array<const char*, kTypes> kTypeUrls = {kCds, kEds, kLds, kRds};
constexpr std::array<const char*, kTypes> kTypeNames = {"CDS", "EDS", "LDS", "RDS"};

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

// The names a Listener's HTTP connection managers ask RDS for.
void routeNames(const google::protobuf::Any& any, std::set<std::string>& out) {
  envoy::config::listener::v3::Listener l;
  if (!any.UnpackTo(&l)) return;
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
void endpointNames(const google::protobuf::Any& any, std::set<std::string>& out) {
  envoy::config::cluster::v3::Cluster c;
  if (!any.UnpackTo(&c)) return;
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
    bool waiting = false;       // a subscription change is not answered yet
    std::set<std::string> names;  // EDS/RDS: what is subscribed
    std::map<std::string, std::set<std::string>> refs;  // CDS/LDS (delta): resource -> names it refers to
  };

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
    std::set_difference(t.names.begin(), t.names.end(), want.begin(), want.end(),
                        std::inserter(remove, remove.end()));
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
        for (const auto& name : r.removed_resources()) t.refs.erase(name);
        for (const auto& res : r.resources()) {
          std::set<std::string>& refs = t.refs[res.name()];
          refs.clear();
          if (type == kCdsI) endpointNames(res.resource(), refs);
          else routeNames(res.resource(), refs);
        }
      }
    } else {
      version = r.version_info();
      if (type == kCdsI || type == kLdsI) {
        // The whole set every time: what it refers to is all there is.
        t.refs.clear();
        std::set<std::string>& refs = t.refs["*"];
        for (const auto& res : r.resources()) {
          if (type == kCdsI) endpointNames(res, refs);
          else routeNames(res, refs);
        }
      }
    }
    t.nonce = r.nonce();
    t.version_acked = version;
    t.acked = true;
    t.waiting = false;

    const bool converging = ready_ && converged_at_ == 0 && version != baseline_[type];
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
    }
    if (!ready_) {
      bool all = true;
      for (const auto& s : types_) all = all && s.acked && !s.waiting;
      if (all) {
        ready_ = true;
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
  int timeout_s = 60;
};

int usage() {
  std::fputs(
      "usage: sluice-ads-load --target HOST:PORT [--proxies N] [--delta] [--per-channel N]\n"
      "                       [--cluster NAME] [--timeout SECONDS]\n",
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

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<P>> proxies;
  proxies.reserve(o.proxies);
  for (int i = 0; i < o.proxies; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "bench-%05d", i);
    proxies.push_back(std::make_unique<P>(id, o.cluster, tally));
    proxies.back()->start(*stubs[i / o.per_channel]);
  }
  const auto deadline = [&] { return std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s); };

  // Every stream cancelled and gone before the reactors are freed; one
  // that does not end in time leaves the process by _Exit instead.
  auto finish = [&](int rc) {
    for (auto& p : proxies) p->cancel();
    std::unique_lock lock(tally.mu);
    if (!tally.cv.wait_for(lock, std::chrono::seconds(10), [&] { return tally.done >= o.proxies; })) {
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
  while (std::getline(std::cin, line)) {
    if (std::sscanf(line.c_str(), "edit %" SCNd64, &edit_ns) == 1) break;
  }
  if (edit_ns == 0) {
    std::fputs("sluice-ads-load: no \"edit UNIX_NS\" line on stdin\n", stderr);
    return finish(1);
  }
  {
    std::unique_lock lock(tally.mu);
    tally.cv.wait_until(lock, deadline(), [&] { return tally.converged + tally.failed >= o.proxies; });
  }
  std::vector<double> ms;
  for (auto& p : proxies) {
    const int64_t at = p->convergedAt();
    if (at != 0) ms.push_back(static_cast<double>(at - edit_ns) / 1e6);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("converged %zu of %d p50 %.1f ms p99 %.1f ms max %.1f ms\n", ms.size(), o.proxies,
              percentile(ms, 50), percentile(ms, 99), ms.empty() ? 0.0 : ms.back());
  std::printf("responses after ready:");
  for (int i = 0; i < kTypes; ++i) std::printf(" %s %" PRIu64, kTypeNames[i], tally.after_ready[i].load());
  std::printf("\n");
  {
    std::lock_guard lock(tally.mu);
    if (tally.failed) std::printf("failed streams: %d; first: %s\n", tally.failed, tally.first_failure.c_str());
  }
  std::fflush(stdout);
  // The streams stay up until the driver has looked at the control plane
  // (its memory with every proxy connected): until stdin closes.
  while (std::getline(std::cin, line)) {
  }
  return finish(static_cast<int>(ms.size()) == o.proxies ? 0 : 1);
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
    } else if (a == "--timeout" && (v = value())) {
      o.timeout_s = std::atoi(v);
    } else {
      return usage();
    }
  }
  if (o.target.empty() || o.proxies <= 0 || o.per_channel <= 0 || o.timeout_s <= 0) return usage();
  return o.delta ? run<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>(o)
                 : run<discovery::DiscoveryRequest, discovery::DiscoveryResponse>(o);
}
