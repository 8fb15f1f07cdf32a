#include "proxy/grpc/call.h"

#include <utility>

#include "proxy/grpc/response_status.h"
#include "proxy/tls/tls_transport.h"

namespace sluice::grpc {
namespace {

// The pool goes at the end of the loop turn, not with the Call: the
// RST_STREAM a cancelled call queued leaves in that turn's flush first.
struct PoolGrave final : event::DeferredDeletable {
  std::unique_ptr<upstream::Http2ConnPool> pool;
};

// Large responses (an ADS push of thousands of resources) should not wait
// a round trip per 64 KiB: the window is given back as bytes arrive, and
// what they fill is bounded by the message limit anyway.
constexpr uint32_t kStreamWindow = 1 << 20;
constexpr uint32_t kConnectionWindow = 2 << 20;

int codeForReset(upstream::StreamResetReason reason) {
  using R = upstream::StreamResetReason;
  switch (reason) {
    case R::ProtocolError:
    case R::RemoteReset:
      return kInternal;
    default:
      return kUnavailable;  // refused, connection lost, connect failed
  }
}

}  // namespace

Call::Call(event::Loop& loop, CallTarget target, CallEvents& events)
    : loop_(loop), target_(std::move(target)), events_(events), reader_(target_.max_message_bytes) {
  ++in_entry_;
  target_.head.scheme = target_.tls ? "https" : "http";
  report_timer_ = loop_.createTimer([this] { report(); });
  if (target_.head.timeout.count() > 0) {
    deadline_ = loop_.createTimer([this] {
      finish(Status{kDeadlineExceeded,
                    "no answer within the deadline of " + std::to_string(target_.head.timeout.count()) + " ms"});
    });
    deadline_->enable(target_.head.timeout);
  }
  target_.head.authority = target_.address;
  std::string error;
  if (auto numeric = ip::Address::parse(target_.address, &error)) {
    addresses_.push_back(*numeric);
    connectNext();
  } else {
    // The pool's connect timeout starts with the connection: this one
    // bounds the resolution before it.
    resolve_timer_ = loop_.createTimer([this] {
      finish(Status{kUnavailable, "cannot resolve '" + target_.address + "' within " +
                                      std::to_string(target_.connect_timeout.count()) + " ms"});
    });
    resolve_timer_->enable(target_.connect_timeout);
    resolution_ = resolveName(loop_, target_.address, [this](std::vector<ip::Address> to, std::string why) {
      resolve_timer_->disable();
      if (finished_) return;
      if (to.empty()) return finish(Status{kUnavailable, why});
      addresses_ = std::move(to);
      connectNext();
    });
  }
  --in_entry_;
}

void Call::connectNext() { connect(addresses_[next_address_++]); }

void Call::connect(const ip::Address& to) {
  ++in_entry_;
  // A connection to an earlier address failed inside its pool's callback:
  // that pool goes at the end of the turn.
  if (pool_) {
    auto grave = std::make_unique<PoolGrave>();
    grave->pool = std::move(pool_);
    loop_.deferredDelete(std::move(grave));
  }
  transport_ = nullptr;
  connected_to_ = to.str();
  upstream::PoolSettings settings;
  settings.max_connections = 1;
  settings.max_pending_requests = 1;
  settings.connect_timeout = target_.connect_timeout;
  settings.idle_timeout = target_.connect_timeout;  // never idle while the call holds its stream
  settings.http2.initial_stream_window_size = kStreamWindow;
  settings.http2.initial_connection_window_size = kConnectionWindow;
  settings.http2.keepalive_interval = target_.keepalive_interval;
  settings.http2.keepalive_timeout = target_.keepalive_timeout;
  // Called once, inside newStream() below: the pool holds one request and
  // never connects again on its own.
  settings.transport = [this]() -> std::unique_ptr<net::TransportSocket> {
    std::unique_ptr<net::TransportSocket> t;
    if (target_.tls) {
      t = std::make_unique<tls::TlsTransport>(target_.tls, std::string());
    } else {
      t = std::make_unique<net::RawTransport>();
    }
    transport_ = t.get();
    return t;
  };
  upstream::Host host;
  host.address = to;
  host.name = target_.head.authority;
  pool_ = std::make_unique<upstream::Http2ConnPool>(loop_, std::move(host), std::move(settings), nullptr);
  pending_ = pool_->newStream(*this, *this, *this, upstream::RoutingPriority::Normal);
  --in_entry_;
}

Call::~Call() {
  *alive_ = false;
  letGo(false);
  resolution_.reset();
  if (!pool_) return;
  auto grave = std::make_unique<PoolGrave>();
  grave->pool = std::move(pool_);
  loop_.deferredDelete(std::move(grave));
}

void Call::send(std::string_view message) {
  if (finished_ || send_closed_) return;
  ++in_entry_;
  net::Buffer framed;
  frameMessage(message, framed);
  if (stream_) {
    stream_->encoder().encodeData(framed, /*end_stream=*/false);
  } else {
    unsent_.move(framed);
  }
  --in_entry_;
}

void Call::closeSend() {
  if (finished_ || send_closed_) return;
  send_closed_ = true;
  if (!stream_) return;  // END_STREAM goes with the queued messages
  ++in_entry_;
  net::Buffer none;
  stream_->encoder().encodeData(none, /*end_stream=*/true);
  --in_entry_;
}

void Call::onPoolReady(upstream::UpstreamStream& stream) {
  pending_ = nullptr;
  stream_ = &stream;
  ++in_entry_;
  // Headers and the messages queued so far go out together; a call with
  // nothing to send yet keeps its request open.
  const bool empty_request = send_closed_ && unsent_.empty();
  stream.encoder().encodeHeaders(requestHeaders(target_.head), empty_request);
  if (stream_ && !empty_request && (!unsent_.empty() || send_closed_))
    stream_->encoder().encodeData(unsent_, send_closed_);
  --in_entry_;
}

void Call::onPoolFailure(upstream::StreamResetReason reason, std::string_view detail) {
  pending_ = nullptr;
  // The failed connection (and its transport) is deleted at the end of
  // this turn, not before: its handshake's reason can still be read.
  const std::string_view why = transport_ ? transport_->failureReason() : std::string_view();
  // Named when it was resolved: "localhost:15010 at [::1]:15010".
  const std::string where = resolution_ ? target_.address + " at " + connected_to_ : target_.address;
  if (!why.empty()) return finish(Status{kUnavailable, "TLS handshake with " + where + " failed: " + std::string(why)});
  // The next address of the name, as gRPC does: `localhost` may list ::1
  // first while the server listens on 127.0.0.1 only. A TLS failure is
  // not retried: a server answered there.
  const bool no_connection =
      reason == upstream::StreamResetReason::ConnectTimeout || reason == upstream::StreamResetReason::ConnectFailure;
  if (no_connection && next_address_ < addresses_.size()) return connectNext();
  const std::string tried =
      addresses_.size() > 1 ? "; " + std::to_string(addresses_.size()) + " addresses tried" : std::string();
  if (reason == upstream::StreamResetReason::ConnectTimeout) {
    finish(Status{kUnavailable, "no connection to " + where + " within " +
                                    std::to_string(target_.connect_timeout.count()) + " ms" + tried});
  } else if (reason == upstream::StreamResetReason::ConnectFailure) {
    finish(Status{kUnavailable, "cannot connect to " + where + " (refused or unreachable" + tried + ")"});
  } else {
    finish(Status{kUnavailable, "cannot connect to " + where + " (" + std::string(detail) + tried + ")"});
  }
}

void Call::onStreamReset(upstream::StreamResetReason reason, std::string_view detail) {
  stream_ = nullptr;  // dead from here on
  finish(Status{codeForReset(reason), std::string(detail)});
}

void Call::decodeHeaders(http::HeaderMap& headers, bool end_stream) {
  if (finished_) return;
  if (auto ended = statusOfHeaders(headers, end_stream)) return finish(std::move(*ended), end_stream);
  headers_seen_ = true;
  events_.onCallHeaders();
}

void Call::decodeData(net::Buffer& data, bool end_stream) {
  if (finished_) {
    data.clear();
    return;
  }
  // Copied out at once: the stream's window is given back as the bytes are
  // taken, so a response of many megabytes keeps flowing.
  iovec iov[16];
  while (!data.empty() && !reader_.error()) {
    const size_t n = data.peek(iov, 16);
    size_t taken = 0;
    for (size_t i = 0; i < n && reader_.feed({static_cast<const char*>(iov[i].iov_base), iov[i].iov_len}); ++i)
      taken += iov[i].iov_len;
    data.drain(reader_.error() ? data.length() : taken);
  }
  auto alive = alive_;
  while (auto message = reader_.next()) {
    events_.onCallMessage(std::move(*message));
    if (!*alive || finished_) return;
  }
  if (reader_.error()) return finish(*reader_.error());
  if (end_stream) finish(Status{kInternal, "the server ended the stream without trailers (no grpc-status)"}, true);
}

void Call::decodeTrailers(http::HeaderMap& trailers) {
  if (finished_) return;
  Status s = statusOfTrailers(trailers);
  if (s.ok() && reader_.midMessage()) s = Status{kInternal, "the response ended inside a message"};
  finish(std::move(s), true);
}

void Call::finish(Status status, bool response_complete) {
  if (finished_) return;
  finished_ = true;
  if (deadline_) deadline_->disable();
  if (resolve_timer_) resolve_timer_->disable();
  letGo(response_complete);
  closing_ = std::move(status);
  if (in_entry_ > 0) {
    report_timer_->enable(event::Duration(0));
    return;
  }
  report();
}

void Call::report() {
  if (!closing_) return;
  Status s = std::move(*closing_);
  closing_.reset();
  events_.onCallClosed(s);
}

void Call::letGo(bool response_complete) {
  // Neither raises a callback. A stream whose response is not complete is
  // reset (CANCEL); a complete one is released.
  if (upstream::UpstreamStream* s = std::exchange(stream_, nullptr)) {
    if (response_complete) {
      s->release();
    } else {
      s->reset();
    }
  }
  if (upstream::PendingStream* p = std::exchange(pending_, nullptr)) p->cancel();
}

}  // namespace sluice::grpc
