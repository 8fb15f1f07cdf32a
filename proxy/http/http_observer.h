#pragma once
// What the connection manager records about each request: per-listener
// counters and the access log lines.

#include "proxy/http/connection_manager_config.h"
#include "proxy/http/route_tables.h"
#include "proxy/http/stream_info.h"
#include "proxy/net/filter.h"

namespace sluice::http {

void observeStreamStart(net::FilterContext& ctx);
// Once per request, when it ends (completed, rejected or reset). `started`:
// observeStreamStart was called for it (false for requests rejected before
// they became a stream). `routes`: the tables the stream routed with, whose
// per-route stats count it (null before routing).
void observeStreamEnd(net::FilterContext& ctx, const ConnectionManagerConfig& config, const StreamInfo& info,
                      bool started, const RouteTables* routes);

}  // namespace sluice::http
