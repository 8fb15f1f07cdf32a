#include "proxy/http/http_observer.h"

#include <string>
#include <unordered_map>

#include "proxy/log/log.h"
#include "proxy/stats/stats.h"

namespace sluice::http {
namespace {


// Files are opened once per worker thread; the registry behind open() locks,
// this cache keeps that lock off the request path.
AccessLogFile* logFile(const std::string& path) {
  thread_local std::unordered_map<std::string, AccessLogFile*> cache;
  auto it = cache.find(path);
  if (it != cache.end()) return it->second;
  std::string error;
  auto* f = AccessLogFile::open(path, &error);
  if (!f) log::error("access log " + path + ": " + error);
  cache.emplace(path, f);
  return f;
}

}  // namespace

void observeStreamStart(net::FilterContext& ctx) {
  ctx.listener_stats.downstream_rq_total.inc();
  ctx.listener_stats.downstream_rq_active.inc();
}

void observeStreamEnd(net::FilterContext& ctx, const ConnectionManagerConfig& config, const StreamInfo& info,
                      bool started, const RouteTables* routes) {
  auto& s = ctx.listener_stats;
  if (started) {
    s.downstream_rq_active.dec();
  } else {
    s.downstream_rq_total.inc();
  }
  stats::countStatusClass(info.status, s.downstream_rq_1xx, s.downstream_rq_2xx, s.downstream_rq_3xx,
                          s.downstream_rq_4xx, s.downstream_rq_5xx);
  if (info.route_key && routes) {
    auto it = routes->stats.find(info.route_key);
    if (it != routes->stats.end()) {
      auto& r = it->second->worker(ctx.worker);
      r.rq_total.inc();
      stats::countStatusClass(info.status, r.rq_1xx, r.rq_2xx, r.rq_3xx, r.rq_4xx, r.rq_5xx);
      if (info.grpc_status >= 0 && static_cast<size_t>(info.grpc_status) < stats::RouteStats::kGrpcStatuses)
        r.grpc[info.grpc_status].inc();
    }
  }
  if (info.hasFlag(ResponseFlag::DownstreamProtocolError)) s.downstream_rq_protocol_error.inc();
  if (info.hasFlag(ResponseFlag::RequestHeadersTimeout) || info.hasFlag(ResponseFlag::StreamIdleTimeout))
    s.downstream_rq_timeout.inc();
  if (info.hasFlag(ResponseFlag::StreamIdleTimeout)) s.downstream_rq_idle_timeout.inc();
  if (info.hasFlag(ResponseFlag::DurationTimeout)) s.downstream_rq_max_duration_reached.inc();

  if (config.access_logs.empty()) return;
  thread_local std::string line;
  for (const auto& a : config.access_logs) {
    auto* f = logFile(a.path);
    if (!f) continue;
    line.clear();
    a.formatter->format(info, line);
    f->write(line);
  }
}

}  // namespace sluice::http
