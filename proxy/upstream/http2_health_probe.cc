#include "proxy/upstream/http2_health_probe.h"

#include <algorithm>
#include <utility>

#include "proxy/http/grpc.h"
#include "proxy/upstream/grpc_health_message.h"

namespace sluice::upstream {
namespace {

// A HealthCheckResponse is a few bytes; a reply this big is not one.
constexpr size_t kMaxGrpcBody = 64 * 1024;

}  // namespace

Http2HealthProbe::Http2HealthProbe(event::Loop& loop, const ProbeSpec& spec, const ip::Address& host,
                                   std::unique_ptr<net::TransportSocket> transport, HealthProbeCallbacks& callbacks)
    : spec_(spec),
      callbacks_(callbacks),
      transport_(std::move(transport)),
      timeout_(loop.createTimer([this] { finish(early_.value_or(ProbeResult::Timeout)); })) {
  PoolSettings settings;
  settings.max_connections = 1;
  settings.max_pending_requests = 1;
  settings.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(spec.timeout);
  settings.idle_timeout = settings.connect_timeout;
  settings.transport = [this] { return std::move(transport_); };
  Host h;
  h.address = host;
  h.name = host.str();
  pool_ = std::make_unique<Http2ConnPool>(loop, std::move(h), std::move(settings), nullptr);
  timeout_->enable(spec_.timeout);
  pending_ = pool_->newStream(*this, *this, *this, RoutingPriority::Normal);
  starting_ = false;
  // A verdict inside newStream (the pool refused at once) is reported from
  // the loop, as the contract says, not from this constructor.
  if (early_) timeout_->enable(event::Duration(0));
}

Http2HealthProbe::~Http2HealthProbe() { letGo(); }

void Http2HealthProbe::cancel() {
  done_ = true;
  timeout_->disable();
  letGo();
}

void Http2HealthProbe::onPoolReady(UpstreamStream& stream) {
  pending_ = nullptr;
  stream_ = &stream;
  const bool grpc = spec_.kind == ProbeSpec::Kind::Grpc;
  stream.encoder().encodeHeaders(spec_.request, /*end_stream=*/!grpc);
  if (grpc && stream_) {
    net::Buffer body;
    body.add(spec_.grpc_request);
    stream_->encoder().encodeData(body, /*end_stream=*/true);
  }
}

void Http2HealthProbe::onPoolFailure(StreamResetReason, std::string_view) {
  pending_ = nullptr;
  if (starting_) {
    early_ = ProbeResult::Fail;
    return;
  }
  finish(ProbeResult::Fail);
}

void Http2HealthProbe::onStreamReset(StreamResetReason, std::string_view) {
  stream_ = nullptr;  // dead from here on
  finish(ProbeResult::Fail);
}

void Http2HealthProbe::decodeHeaders(http::HeaderMap& headers, bool end_stream) {
  const int status = headers.status();
  if (spec_.kind == ProbeSpec::Kind::Http2) {
    const bool pass = std::any_of(spec_.expected_statuses.begin(), spec_.expected_statuses.end(),
                                  [status](const std::pair<int, int>& r) { return status >= r.first && status <= r.second; });
    return finish(pass ? ProbeResult::Pass : ProbeResult::Fail);
  }
  if (status != 200) return finish(ProbeResult::Fail);
  if (end_stream) return finish(grpcVerdict(headers));  // trailers-only
}

void Http2HealthProbe::decodeData(net::Buffer& data, bool end_stream) {
  if (done_) {
    data.clear();
    return;
  }
  body_ += data.toString();
  data.clear();
  // Too big for a HealthCheckResponse, or ended without trailers (no grpc-status).
  if (body_.size() > kMaxGrpcBody || end_stream) finish(ProbeResult::Fail);
}

void Http2HealthProbe::decodeTrailers(http::HeaderMap& trailers) { finish(grpcVerdict(trailers)); }

ProbeResult Http2HealthProbe::grpcVerdict(const http::HeaderMap& trailers) const {
  if (http::grpc::statusOf(trailers) != 0) return ProbeResult::Fail;
  const auto status = grpc_health::decodeResponseStatus(body_);
  return status == grpc_health::kServing ? ProbeResult::Pass : ProbeResult::Fail;
}

void Http2HealthProbe::finish(ProbeResult result) {
  if (done_) return;
  done_ = true;
  timeout_->disable();
  letGo();
  callbacks_.onProbeDone(result);
}

void Http2HealthProbe::letGo() {
  // Abandoning the stream raises no callback; the pool (and its connection)
  // goes with the probe, at the end of the loop turn.
  if (UpstreamStream* s = std::exchange(stream_, nullptr)) s->reset();
  if (PendingStream* p = std::exchange(pending_, nullptr)) p->cancel();
}

}  // namespace sluice::upstream
