#include "proxy/upstream/http1_conn_pool.h"

#include <algorithm>
#include <utility>

#include "proxy/http/http1_codec.h"
#include "proxy/net/connection.h"
#include "proxy/upstream/pool_limits.h"
#include "proxy/upstream/protocol_switch.h"

namespace sluice::upstream {

class Http1ConnPool::Client final : public UpstreamStream,
                                    public net::ConnectionCallbacks,
                                    public net::ReadHandler,
                                    public http::CodecOutput,
                                    public http::ClientCodecCallbacks,
                                    public http::MessageDecoder,
                                    public event::DeferredDeletable {
 public:
  enum class State { Connecting, Idle, Busy, Closed };

  // A new connection, or (adopted) one already connected for this pool:
  // then `previous_owner` hands its place among the connection's callbacks.
  Client(Http1ConnPool& pool, std::unique_ptr<net::Connection> conn, net::ConnectionCallbacks* previous_owner = nullptr)
      : pool_(pool), conn_(std::move(conn)) {
    if (previous_owner) {
      conn_->replaceCallbacks(previous_owner, this);
    } else {
      conn_->addCallbacks(this);
    }
    conn_->setReadHandler(this);
    conn_->setBufferLimit(pool.settings_.buffer_limit);
    if (pool.cluster_stats_)
      conn_->setByteCounters(&pool.cluster_stats_->upstream_rx_bytes, &pool.cluster_stats_->upstream_tx_bytes);
    codec_ = http::makeHttp1ClientCodec(*this, *this, pool.host_.name);
    timer_ = pool.loop_.createTimer([this] { onTimer(); });
    timer_->enable(pool.settings_.connect_timeout);
  }

  State state() const { return state_; }
  // The cluster whose connection breaker slot this connection holds (released on close).
  ClusterShared* holds_breaker_slot = nullptr;

  // Binds a request to this connection: the stream starts.
  void startRequest(http::MessageDecoder& response, StreamCallbacks& cb) {
    ++requests_;
    state_ = State::Busy;
    timer_->disable();
    response_ = &response;
    stream_callbacks_ = &cb;
    response_complete_ = false;
    encoder_ = &codec_->newRequest(*this);
  }
  bool reused() const { return requests_ > 1; }
  // Lets go of the connection, just connected, for another pool to adopt.
  std::unique_ptr<net::Connection> giveUp() {
    timer_->disable();
    state_ = State::Closed;
    return std::move(conn_);
  }

  // UpstreamStream.
  http::MessageEncoder& encoder() override { return *encoder_; }
  void readDisable(bool disable) override {
    if (conn_->open()) conn_->readDisable(disable);
  }
  void release() override {
    stream_callbacks_ = nullptr;
    response_ = nullptr;
    const bool reusable = response_complete_ && !eof_ && codec_->reusable() && conn_->open() && conn_->readEnabled();
    pool_.onClientReleased(this, reusable);
  }
  void reset() override {
    stream_callbacks_ = nullptr;
    response_ = nullptr;
    close();
  }

  void makeIdle() {
    state_ = State::Idle;
    timer_->enable(pool_.settings_.idle_timeout);
  }
  void close() {
    if (conn_->open()) conn_->close(net::CloseType::NoFlush);
  }

  // The response passes through here so the pool knows when it completed.
  void decodeHeaders(http::HeaderMap& h, bool end_stream) override {
    if (end_stream) response_complete_ = true;
    if (response_) response_->decodeHeaders(h, end_stream);
  }
  void decodeData(net::Buffer& d, bool end_stream) override {
    if (end_stream) response_complete_ = true;
    if (response_) {
      response_->decodeData(d, end_stream);
    } else {
      d.clear();
    }
  }
  void decodeTrailers(http::HeaderMap& t) override {
    response_complete_ = true;
    if (response_) response_->decodeTrailers(t);
  }

  // Bytes from the upstream.
  void onRead(net::Buffer& data, bool end_stream) override {
    if (state_ != State::Busy) {
      // An idle connection must be silent: bytes or FIN mean it is unusable.
      data.clear();
      close();
      return;
    }
    if (end_stream) eof_ = true;  // never reuse a connection the upstream half-closed
    auto err = codec_->dispatch(data);
    if (!err && end_stream) err = codec_->dispatchEof();
    if (err) {
      // 502: the bytes were not HTTP; otherwise the upstream went away mid-response.
      failStream(err->status == 502 ? StreamResetReason::ProtocolError : StreamResetReason::ConnectionTermination,
                 err->detail);
      close();
    }
  }

  void writeBytes(net::Buffer& data, bool end_stream) override { conn_->write(data, end_stream); }
  void onResponseError(std::string_view detail) override { failStream(StreamResetReason::ProtocolError, detail); }

  void onEvent(net::ConnectionEvent event) override {
    if (event == net::ConnectionEvent::Connected) {
      // An auto pool's host picked HTTP/2 for this connection: not ours to speak.
      if (ProtocolSwitch* s = pool_.settings_.protocol_switch;
          s && !s->negotiated(Protocol::Http1, conn_->transport().protocol())) {
        handOverMismatched(pool_.clients_, this, pool_.loop_, *s, Protocol::Http1);
        return;
      }
      timer_->disable();
      pool_.onClientReady(this);
      return;
    }
    const State was = state_;
    state_ = State::Closed;
    timer_->disable();
    if (was == State::Connecting) {
      pool_.onClientConnectFailed(this,
                                  timed_out_ ? StreamResetReason::ConnectTimeout : StreamResetReason::ConnectFailure);
      return;
    }
    if (was == State::Busy && !response_complete_)
      failStream(StreamResetReason::ConnectionTermination, "upstream connection closed");
    pool_.onClientClosed(this);
  }
  void onAboveWriteBufferHighWatermark() override {
    if (stream_callbacks_) stream_callbacks_->onAboveWriteBufferHighWatermark();
  }
  void onBelowWriteBufferLowWatermark() override {
    if (stream_callbacks_) stream_callbacks_->onBelowWriteBufferLowWatermark();
  }

 private:
  void failStream(StreamResetReason reason, std::string_view detail) {
    auto* cb = stream_callbacks_;
    stream_callbacks_ = nullptr;
    response_ = nullptr;
    if (cb) cb->onStreamReset(reason, detail);
  }
  void onTimer() {
    if (state_ == State::Connecting) timed_out_ = true;
    close();  // connect timeout, or idle timeout
  }

  Http1ConnPool& pool_;
  std::unique_ptr<net::Connection> conn_;
  std::unique_ptr<http::ClientCodec> codec_;
  std::unique_ptr<event::Timer> timer_;
  State state_ = State::Connecting;
  http::MessageDecoder* response_ = nullptr;
  http::MessageEncoder* encoder_ = nullptr;
  StreamCallbacks* stream_callbacks_ = nullptr;
  bool response_complete_ = false;
  bool timed_out_ = false;
  bool eof_ = false;
  uint64_t requests_ = 0;
};

Http1ConnPool::Http1ConnPool(event::Loop& loop, Host host, PoolSettings settings, stats::ClusterStats* cluster_stats)
    : loop_(loop), host_(std::move(host)), settings_(settings), cluster_stats_(cluster_stats) {}

Http1ConnPool::~Http1ConnPool() {
  pending_.clear();
  // Taken out of clients_ first: closing one raises onClientClosed, which
  // must not erase from the list being walked here.
  idle_.clear();
  auto clients = std::move(clients_);
  clients_.clear();
  for (auto& c : clients) {
    c->reset();
    releaseConnectionSlot(c->holds_breaker_slot);
    // Counted here: onClientClosed no longer finds it (an original_dst host
    // removed while the process runs keeps its gauges right).
    countConnectionClosed(cluster_stats_, host_);
  }
}

void Http1ConnPool::update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats) {
  // Another TLS setup (on, off, other files): idle connections made under
  // the old one must not serve new requests. Busy ones finish their request.
  const bool tls_changed = settings.tls != settings_.tls;
  host_ = host;
  settings_ = settings;
  cluster_stats_ = cluster_stats;
  if (tls_changed) {
    const std::vector<Client*> idle = idle_;
    for (Client* c : idle) c->close();
  }
}

size_t Http1ConnPool::idleCount() const { return idle_.size(); }

void Http1ConnPool::makeIdle(Client* c) {
  c->makeIdle();
  idle_.push_back(c);
}

size_t Http1ConnPool::totalCount() const { return clients_.size(); }

PendingStream* Http1ConnPool::newStream(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                                        PoolCallbacks& callbacks, RoutingPriority priority) {
  const StreamRequest request{&response, &stream_callbacks, &callbacks};
  if (!idle_.empty()) {
    serveIdle(request);
    return nullptr;
  }
  const auto group = admitWaiting(settings_, cluster_stats_, pending_.size(), priority);
  if (!group) {
    failOverflow(callbacks);
    return nullptr;
  }
  return wait(request, *group);
}

PendingStream* Http1ConnPool::newStreamHolding(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                                               PoolCallbacks& callbacks, BreakerGroup* held) {
  const StreamRequest request{&response, &stream_callbacks, &callbacks};
  if (!idle_.empty()) {
    if (held) held->pending.release();
    serveIdle(request);
    return nullptr;
  }
  return wait(request, held);
}

void Http1ConnPool::serveIdle(const StreamRequest& r) {
  // Most recently used first: its socket is warm and the others can time out.
  Client* c = idle_.back();
  idle_.pop_back();
  attach(c, r);
}

PendingStream* Http1ConnPool::wait(const StreamRequest& r, BreakerGroup* group) {
  PendingStream& waiting = pending_.push(r, group);
  connectIfNeeded();
  // Nothing to wait for: the connection breaker is full and this pool has no
  // connection that could free up.
  if (clients_.empty()) {
    pending_.dropNewest();
    failOverflow(*r.callbacks);
    return nullptr;
  }
  return &waiting;
}

void Http1ConnPool::takeWaiting(WaitQueue& from) {
  pending_.takeAll(from);
  while (!pending_.empty() && !idle_.empty()) serveIdle(pending_.pop());
  // A connection for each, as if each had asked here (connectIfNeeded
  // makes one at a time).
  size_t before;
  do {
    before = clients_.size();
    connectIfNeeded();
  } while (!pending_.empty() && clients_.size() != before);
}

void Http1ConnPool::connectIfNeeded() {
  size_t connecting = 0;
  for (const auto& c : clients_) connecting += c->state() == Client::State::Connecting;
  if (connecting < pending_.size() && clients_.size() < settings_.max_connections) connectOne();
}

bool Http1ConnPool::connectOne() {
  if (!takeConnectionSlot(settings_, cluster_stats_)) return false;
  clients_.push_back(
      std::make_unique<Client>(*this, net::Connection::connect(loop_, host_.address, settings_.newTransport())));
  clients_.back()->holds_breaker_slot = settings_.shared;
  countConnectionOpened(cluster_stats_, host_);
  return true;
}

void Http1ConnPool::adopt(std::unique_ptr<net::Connection> conn, net::ConnectionCallbacks* previous_owner,
                          ClusterShared* breaker_slot) {
  clients_.push_back(std::make_unique<Client>(*this, std::move(conn), previous_owner));
  Client* c = clients_.back().get();
  c->holds_breaker_slot = breaker_slot;
  c->onEvent(net::ConnectionEvent::Connected);
}

void Http1ConnPool::attach(Client* c, const StreamRequest& r) {
  c->startRequest(*r.response, *r.stream_callbacks);
  if (c->reused() && cluster_stats_) cluster_stats_->upstream_cx_reused.inc();
  r.callbacks->onPoolReady(*c);
}

void Http1ConnPool::onClientReady(Client* c) {
  if (pending_.empty()) {
    makeIdle(c);
    return;
  }
  attach(c, pending_.pop());
}

void Http1ConnPool::onClientConnectFailed(Client* c, StreamResetReason why) {
  countConnectFailure(cluster_stats_, host_, why);
  onClientClosed(c);
  // One waiting request learns of this failure; others keep waiting for the
  // connections still being made (or get one of their own).
  if (!pending_.empty()) pending_.pop().callbacks->onPoolFailure(why, resetReasonName(why));
  connectIfNeeded();
}

void Http1ConnPool::onClientClosed(Client* c) {
  if (auto idle = std::find(idle_.rbegin(), idle_.rend(), c); idle != idle_.rend()) idle_.erase(std::next(idle).base());
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->get() == c) {
      countConnectionClosed(cluster_stats_, host_);
      releaseConnectionSlot((*it)->holds_breaker_slot);
      loop_.deferredDelete(std::move(*it));
      clients_.erase(it);
      return;
    }
  }
}

void Http1ConnPool::onClientReleased(Client* c, bool reusable) {
  if (!reusable) {
    c->close();  // raises Closed -> onClientClosed
    return;
  }
  if (!pending_.empty()) {
    attach(c, pending_.pop());
    return;
  }
  makeIdle(c);
}

}  // namespace sluice::upstream
