#include "proxy/upstream/health_probe.h"

#include <algorithm>
#include <cassert>

#include "proxy/http/http1_codec.h"
#include "proxy/upstream/grpc_health_message.h"

namespace sluice::upstream {
namespace {

// A TCP reply that has not matched within this many bytes never will.
constexpr size_t kMaxReply = 64 * 1024;

}  // namespace

ProbeSpec ProbeSpec::fromConfig(const config::HealthCheckConfig& cfg, std::string_view host_header_default) {
  assert(cfg.http || cfg.tcp || cfg.grpc);
  ProbeSpec spec;
  spec.timeout = cfg.timeout;
  if (cfg.tcp) {
    spec.send = cfg.tcp->send;
    spec.expect = cfg.tcp->expect;
    return spec;
  }
  if (cfg.grpc) {
    spec.kind = Kind::Grpc;
    spec.request.add(http::headers::kMethod, "POST");
    spec.request.add(http::headers::kPath, "/grpc.health.v1.Health/Check");
    spec.request.add(http::headers::kAuthority,
                     cfg.grpc->authority.empty() ? host_header_default : cfg.grpc->authority);
    spec.request.add("content-type", "application/grpc");
    spec.request.add("te", "trailers");
    spec.request.add("user-agent", "sluice-health-check");
    spec.grpc_request = grpc_health::encodeRequest(cfg.grpc->service_name);
    return spec;
  }
  spec.kind = cfg.http->codec == config::HealthCheckConfig::Codec::Http2 ? Kind::Http2 : Kind::Http1;
  spec.request.add(http::headers::kMethod, "GET");
  spec.request.add(http::headers::kPath, cfg.http->path);
  spec.request.add(http::headers::kAuthority, cfg.http->host.empty() ? host_header_default : cfg.http->host);
  spec.request.add("user-agent", "sluice-health-check");
  spec.expected_statuses = cfg.http->expected_statuses;
  return spec;
}

HealthProbe::HealthProbe(event::Loop& loop, const ProbeSpec& spec, const ip::Address& host,
                         std::unique_ptr<net::TransportSocket> transport, HealthProbeCallbacks& callbacks)
    : spec_(spec), callbacks_(callbacks), timeout_(loop.createTimer([this] { finish(ProbeResult::Timeout); })) {
  conn_ = net::Connection::connect(loop, host, std::move(transport));
  conn_->addCallbacks(this);
  conn_->setReadHandler(this);
  if (spec_.kind == ProbeSpec::Kind::Http1) codec_ = http::makeHttp1ClientCodec(*this, *this);
  timeout_->enable(spec_.timeout);
}

HealthProbe::~HealthProbe() { release(net::CloseType::NoFlush); }

void HealthProbe::cancel() {
  done_ = true;
  timeout_->disable();
  release(net::CloseType::NoFlush);
}

void HealthProbe::onEvent(net::ConnectionEvent event) {
  if (done_) return;
  // Refused, reset, a failed handshake, or the peer's FIN with ours already
  // sent: all before a verdict.
  if (event == net::ConnectionEvent::Closed) return finish(ProbeResult::Fail);
  if (event != net::ConnectionEvent::Connected) return;
  if (codec_) {
    codec_->newRequest(*this).encodeHeaders(spec_.request, /*end_stream=*/true);
    return;
  }
  if (!spec_.send.empty()) {
    net::Buffer out;
    out.add(spec_.send);
    conn_->write(out, /*end_stream=*/false);
  }
  // Connect-only (or send-only): connecting was the test. finish() lets
  // the connection flush `send` before it closes.
  if (spec_.expect.empty()) finish(ProbeResult::Pass);
}

void HealthProbe::onRead(net::Buffer& data, bool end_stream) {
  if (done_) {
    data.clear();
    return;
  }
  if (codec_) return readResponse(data, end_stream);
  readTcpReply(data, end_stream);
}

void HealthProbe::readResponse(net::Buffer& data, bool end_stream) {
  std::optional<http::CodecError> err = codec_->dispatch(data);
  if (!err && !status_ && end_stream) err = codec_->dispatchEof();
  data.clear();
  if (status_) {
    // Decided at the header block, whatever the body does afterwards.
    const int s = *status_;
    const bool pass = std::any_of(spec_.expected_statuses.begin(), spec_.expected_statuses.end(),
                                  [s](const std::pair<int, int>& r) { return s >= r.first && s <= r.second; });
    return finish(pass ? ProbeResult::Pass : ProbeResult::Fail);
  }
  // A malformed response (502) or the upstream gone mid-response (503).
  if (err || end_stream) finish(ProbeResult::Fail);
}

void HealthProbe::decodeHeaders(http::HeaderMap& headers, bool) {
  if (!status_) status_ = headers.status();
}

void HealthProbe::readTcpReply(net::Buffer& data, bool end_stream) {
  const size_t old_size = reply_.size();
  reply_ += data.toString();
  data.clear();
  // Search only where a new match can be: bytes before old_size were seen.
  const std::string& expect = spec_.expect;
  const size_t from = old_size >= expect.size() ? old_size - expect.size() + 1 : 0;
  if (reply_.find(expect, from) != std::string::npos) return finish(ProbeResult::Pass);
  if (reply_.size() >= kMaxReply || end_stream) finish(ProbeResult::Fail);
}

void HealthProbe::writeBytes(net::Buffer& data, bool end_stream) { conn_->write(data, end_stream); }

void HealthProbe::finish(ProbeResult result) {
  if (done_) return;
  done_ = true;
  timeout_->disable();
  // A pass may leave TCP `send` bytes queued: let them go out first. The
  // connection owns itself meanwhile, so the probe can be freed.
  release(result == ProbeResult::Pass ? net::CloseType::FlushWrite : net::CloseType::NoFlush);
  callbacks_.onProbeDone(result);
}

void HealthProbe::release(net::CloseType type) {
  // Detached: we may be inside one of its callbacks, and a FlushWrite
  // outlives the probe. Its own deferred deletion frees it.
  if (conn_) net::Connection::closeDetached(std::move(conn_), type);
}

}  // namespace sluice::upstream
