#include "proxy/upstream/http2_conn_pool.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <list>
#include <utility>
#include <vector>

#include "proxy/http/http2_headers.h"
#include "proxy/http/http2_session.h"
#include "proxy/net/connection.h"
#include "proxy/upstream/pool_limits.h"
#include "proxy/upstream/protocol_switch.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::upstream {
namespace {

constexpr size_t kOutputBatch = 64 * 1024;
constexpr uint32_t kLastStreamIds = 0x7fffff00;
// A response's header block may not decode to more than this (an HPACK
// bomb from a broken or hostile upstream): the stream is reset.
constexpr size_t kMaxResponseHeaderBytes = 256 * 1024;
constexpr size_t kMaxResponseHeaderCount = 500;
constexpr std::array<uint8_t, 8> kKeepalivePing = {'s', 'l', 'u', 'p', 'k', 'a', 0, 0};

}  // namespace

class Http2ConnPool::Stream final : public UpstreamStream,
                                    public http::MessageEncoder,
                                    public event::DeferredDeletable {
 public:
  Stream(Client& c, const StreamRequest& r) : client(c), response(r.response), callbacks(r.stream_callbacks) {}
  // One per request: the worker's last freed stream's memory serves the next.
  static void* operator new(size_t n) { return util::ThreadPoolAlloc<Stream>::allocate(n); }
  static void operator delete(void* p, size_t n) { util::ThreadPoolAlloc<Stream>::release(p, n); }
  using List = std::list<std::unique_ptr<Stream>, util::PoolAllocator<std::unique_ptr<Stream>>>;

  // UpstreamStream.
  http::MessageEncoder& encoder() override { return *this; }
  void readDisable(bool disable) override;
  void release() override;
  void reset() override;
  // MessageEncoder: the request.
  void encodeHeaders(const http::HeaderMap& h, bool end_stream) override;
  void encodeData(net::Buffer& d, bool end_stream) override;
  void encodeTrailers(const http::HeaderMap& t) override;

  // Tells the caller its stream ended early (once), and lets go of it.
  void fail(StreamResetReason reason, std::string_view detail) {
    auto* cb = callbacks;
    callbacks = nullptr;
    response = nullptr;
    if (cb) cb->onStreamReset(reason, detail);
  }

  Client& client;
  List::iterator entry;  // its place in the client's list, while `listed`
  bool listed = false;
  http::MessageDecoder* response;  // null once the caller is done with the stream
  StreamCallbacks* callbacks;
  int32_t id = -1;
  http::HeaderMap headers;
  http::HeaderMap trailers;
  http::HeaderMap request_trailers;
  net::Buffer in;
  net::Buffer out;  // request body the host's window has not taken yet
  int read_disabled = 0;
  size_t unconsumed = 0;
  bool response_started = false;
  bool response_complete = false;
  bool local_end = false;
  bool has_trailers = false;
  bool data_deferred = false;
  bool above_watermark = false;
  bool closed = false;  // nghttp2 is done with it
};

class Http2ConnPool::Client final : public net::ConnectionCallbacks,
                                    public net::ReadHandler,
                                    public event::DeferredDeletable {
 public:
  enum class State { Connecting, Ready, Draining, Closed };

  // A new connection, or (adopted) one already connected for this pool:
  // then `previous_owner` hands its place among the connection's callbacks.
  Client(Http2ConnPool& pool, std::unique_ptr<net::Connection> conn, net::ConnectionCallbacks* previous_owner = nullptr)
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
    scheme_ = conn_->transport().hasHandshake() ? "https" : "http";
    timer_ = pool.loop_.createTimer([this] { onTimer(); });
    timer_->enable(pool.settings_.connect_timeout);
    makeSession();
  }
  ~Client() override {
    if (session_) nghttp2_session_del(session_);
  }

  State state() const { return state_; }
  ClusterShared* holds_breaker_slot = nullptr;
  uint64_t streams_started = 0;

  size_t room() const {
    if (state_ != State::Ready) return 0;
    const uint32_t peer = nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    const size_t limit = std::min<size_t>(peer, pool_.settings_.http2.max_concurrent_streams);
    return open_ >= limit ? 0 : limit - open_;
  }
  bool idle() const { return open_ == 0; }
  // Lets go of the connection, just connected, for another pool to adopt.
  std::unique_ptr<net::Connection> giveUp() {
    timer_->disable();
    state_ = State::Closed;
    return std::move(conn_);
  }

  Stream& startStream(const StreamRequest& r) {
    ++open_;
    ++streams_started;
    timer_->disable();
    streams_.push_back(std::make_unique<Stream>(*this, r));
    streams_.back()->entry = std::prev(streams_.end());
    streams_.back()->listed = true;
    return *streams_.back();
  }

  void close() {
    // Inside nghttp2_session_mem_recv the read buffer it parses must live:
    // close once it returns.
    if (in_recv_ > 0) {
      close_after_recv_ = true;
      return;
    }
    if (conn_->open()) conn_->close(net::CloseType::NoFlush);
  }
  // No new streams; closes once the last one ends.
  void drain() {
    if (state_ == State::Ready) state_ = State::Draining;
    if (open_ == 0 && state_ == State::Draining) close();
  }

  // For Stream.
  void submitRequest(Stream& s, const http::HeaderMap& h, bool end_stream) {
    const auto& nv = block_.build(h, http::Http2HeaderBlock::Kind::Request, scheme_, pool_.host_.name);
    nghttp2_data_provider prd;
    prd.source.ptr = &s;
    prd.read_callback = &onReadData;
    s.id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), end_stream ? nullptr : &prd, &s);
    if (end_stream) s.local_end = true;
    if (s.id < 0) {
      // Out of stream ids (or the session is ending): this connection takes
      // no more; the request was never sent, so it may go elsewhere.
      drain();
      s.fail(StreamResetReason::RefusedStream, nghttp2_strerror(s.id));
      streamFinished(s);
      return;
    }
    // Stream ids run out after 2^30 requests: hand over to a new connection in time.
    if (nghttp2_session_get_next_stream_id(session_) > kLastStreamIds) drain();
    send_soon_.schedule();
  }
  void resumeData(Stream& s) {
    if (s.data_deferred && !s.closed) {
      s.data_deferred = false;
      nghttp2_session_resume_data(session_, s.id);
    }
    checkWatermark(s);
    send_soon_.schedule();
  }
  void consume(Stream& s) {
    if (s.unconsumed > 0 && !s.closed && s.id > 0) {
      nghttp2_session_consume_stream(session_, s.id, s.unconsumed);
      s.unconsumed = 0;
      sendPending();
    }
  }
  void resetStream(Stream& s) {
    // The caller is leaving: nothing it hears about this stream from here
    // (onStreamClose runs when the RST_STREAM goes out) may reach it.
    s.response = nullptr;
    s.callbacks = nullptr;
    if (!s.closed && s.id > 0) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_CANCEL);
      sendPending();
    }
    streamFinished(s);
  }
  // The caller let go of `s`: it is freed once nghttp2 is done with it too.
  void streamFinished(Stream& s) {
    s.response = nullptr;
    s.callbacks = nullptr;
    if (s.closed || s.id < 0) erase(s);
  }

  // Bytes from the host.
  void onRead(net::Buffer& data, bool end_stream) override {
    iovec iov[64];
    while (!data.empty()) {
      const size_t n = data.peek(iov, 64);
      size_t taken = 0;
      ++in_recv_;
      ssize_t rv = 0;
      for (size_t i = 0; i < n && rv >= 0 && state_ != State::Closed; ++i) {
        rv = nghttp2_session_mem_recv(session_, static_cast<const uint8_t*>(iov[i].iov_base), iov[i].iov_len);
        if (rv >= 0) taken += iov[i].iov_len;
      }
      --in_recv_;
      // A frame just read may have ended the connection (a GOAWAY on an idle
      // one, the last stream of a draining one): close() waited for
      // nghttp2 to finish with the bytes; close now.
      if (close_after_recv_) {
        close();
        return;
      }
      if (state_ == State::Closed) return;
      if (rv < 0) {
        data.clear();
        failAll(StreamResetReason::ProtocolError, nghttp2_strerror(static_cast<int>(rv)));
        close();
        return;
      }
      data.drain(taken);
    }
    if (end_stream) {
      failAll(StreamResetReason::ConnectionTermination, "upstream connection closed");
      close();
      return;
    }
    sendPending();
  }

  void onEvent(net::ConnectionEvent event) override {
    if (event == net::ConnectionEvent::Connected) {
      // An auto pool's host picked HTTP/1.1 (or nothing) for this
      // connection: an HTTP/2 preface would be refused.
      if (ProtocolSwitch* s = pool_.settings_.protocol_switch;
          s && !s->negotiated(Protocol::Http2, conn_->transport().protocol())) {
        handOverMismatched(pool_.clients_, this, pool_.loop_, *s, Protocol::Http2);
        return;
      }
      timer_->disable();
      state_ = State::Ready;
      sendPending();  // the preface and our SETTINGS
      if (pool_.settings_.http2.keepalive_interval.count() > 0)
        keepalive_timer_->enable(pool_.settings_.http2.keepalive_interval);
      pool_.onClientReady(this);
      if (open_ == 0 && state_ == State::Ready) timer_->enable(pool_.settings_.idle_timeout);
      return;
    }
    const State was = state_;
    state_ = State::Closed;
    timer_->disable();
    keepalive_timer_->disable();
    if (was == State::Connecting) {
      pool_.onClientConnectFailed(this,
                                  timed_out_ ? StreamResetReason::ConnectTimeout : StreamResetReason::ConnectFailure);
      return;
    }
    failAll(StreamResetReason::ConnectionTermination, "upstream connection closed");
    pool_.onClientClosed(this);
  }
  void onAboveWriteBufferHighWatermark() override {
    for (auto& s : streams_)
      if (s->callbacks) s->callbacks->onAboveWriteBufferHighWatermark();
  }
  void onBelowWriteBufferLowWatermark() override {
    for (auto& s : streams_)
      if (s->callbacks) s->callbacks->onBelowWriteBufferLowWatermark();
    sendPending();  // frames held back while the buffer was full
  }

 private:
  static Client& self(void* p) { return *static_cast<Client*>(p); }
  static Stream* stream(nghttp2_session* session, int32_t id) {
    return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  void makeSession() {
    const auto& h2 = pool_.settings_.http2;
    const http::Http2SessionCallbacks callbacks{&onSend,      &onSendData,  &onBeginHeaders, &onHeader,
                                                &onFrameRecv, &onDataChunk, &onStreamClose};
    session_ = http::newHttp2Session(http::Http2Role::Client, this, callbacks, [&](nghttp2_option* opt) {
      nghttp2_option_set_peer_max_concurrent_streams(opt, h2.max_concurrent_streams);
    });
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.initial_stream_window_size},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, h2.max_frame_size},
    };
    http::submitHttp2Settings(session_, iv, h2.initial_connection_window_size);
    keepalive_timer_ = pool_.loop_.createTimer([this] { onKeepalive(); });
  }

  void sendPending() {
    if (in_recv_ > 0 || sending_ || state_ == State::Connecting || state_ == State::Closed) return;
    sending_ = true;
    const int rv = nghttp2_session_send(session_);
    sending_ = false;
    flushOutput();
    if (rv != 0) {
      failAll(StreamResetReason::ProtocolError, nghttp2_strerror(rv));
      close();
      return;
    }
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) close();
  }
  void flushOutput() {
    if (!output_.empty()) conn_->write(output_, false);
  }

  static ssize_t onSend(nghttp2_session*, const uint8_t* data, size_t length, int, void* user) {
    auto& c = self(user);
    if (c.conn_->aboveHighWatermark()) return NGHTTP2_ERR_WOULDBLOCK;
    c.output_.add({reinterpret_cast<const char*>(data), length});
    if (c.output_.length() >= kOutputBatch) c.flushOutput();
    return static_cast<ssize_t>(length);
  }
  static int onSendData(nghttp2_session*, nghttp2_frame*, const uint8_t* framehd, size_t length,
                        nghttp2_data_source* source, void* user) {
    auto& c = self(user);
    auto& s = *static_cast<Stream*>(source->ptr);
    if (c.conn_->aboveHighWatermark()) return NGHTTP2_ERR_WOULDBLOCK;
    c.output_.add({reinterpret_cast<const char*>(framehd), 9});
    c.output_.move(s.out, length);
    c.checkWatermark(s);
    if (c.output_.length() >= kOutputBatch) c.flushOutput();
    return 0;
  }
  static ssize_t onReadData(nghttp2_session* session, int32_t id, uint8_t*, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void* user) {
    auto& s = *static_cast<Stream*>(source->ptr);
    return http::readBody(session, id, length, flags, s.out, s.local_end, s.data_deferred,
                          s.has_trailers ? &s.request_trailers : nullptr, self(user).block_);
  }
  static int onBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    self(user).header_bytes_ = 0;
    if (Stream* s = stream(session, frame->hd.stream_id)) {
      // A 1xx head is dropped; the next block starts afresh.
      if (!s->response_started) s->headers.clear();
    }
    return 0;
  }
  static int onHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    Stream* s = stream(session, frame->hd.stream_id);
    if (s == nullptr || s->response == nullptr) return 0;
    auto& c = self(user);
    c.header_bytes_ += namelen + valuelen;
    if (c.header_bytes_ > kMaxResponseHeaderBytes ||
        (s->response_started ? s->trailers : s->headers).size() >= kMaxResponseHeaderCount) {
      // nghttp2 resets the stream; onStreamClose tells the caller.
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    (s->response_started ? s->trailers : s->headers).add(n, v);
    return 0;
  }
  static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& c = self(user);
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        Stream* s = stream(session, frame->hd.stream_id);
        if (s == nullptr || s->response == nullptr) return 0;
        if (!s->response_started) {
          const int status = s->headers.status();
          if (status >= 100 && status < 200 && !end_stream) return 0;  // interim
          s->response_started = true;
          if (end_stream) s->response_complete = true;
          s->response->decodeHeaders(s->headers, end_stream);
        } else {
          s->response_complete = true;
          s->response->decodeTrailers(s->trailers);
        }
        return 0;
      }
      case NGHTTP2_DATA: {
        Stream* s = stream(session, frame->hd.stream_id);
        if (s == nullptr || s->response == nullptr) return 0;
        if (end_stream) s->response_complete = true;
        s->response->decodeData(s->in, end_stream);
        s->in.clear();
        return 0;
      }
      case NGHTTP2_GOAWAY:
        // Streams past last_stream_id are closed by nghttp2 as REFUSED_STREAM.
        c.drain();
        return 0;
      case NGHTTP2_PING:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) &&
            std::memcmp(frame->ping.opaque_data, kKeepalivePing.data(), 8) == 0) {
          c.ping_outstanding_ = false;
          c.keepalive_timer_->enable(c.pool_.settings_.http2.keepalive_interval);
        }
        return 0;
      default:
        return 0;
    }
  }
  static int onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len, void*) {
    nghttp2_session_consume_connection(session, len);
    Stream* s = stream(session, id);
    if (s == nullptr || s->response == nullptr) {
      nghttp2_session_consume_stream(session, id, len);
      return 0;
    }
    s->in.add({reinterpret_cast<const char*>(data), len});
    if (s->read_disabled > 0) {
      s->unconsumed += len;
    } else {
      nghttp2_session_consume_stream(session, id, len);
    }
    return 0;
  }
  static int onStreamClose(nghttp2_session* session, int32_t id, uint32_t error_code, void* user) {
    auto& c = self(user);
    Stream* s = stream(session, id);
    if (s == nullptr) return 0;
    s->closed = true;
    if (s->callbacks != nullptr && !s->response_complete) {
      if (error_code == NGHTTP2_REFUSED_STREAM) {
        s->fail(StreamResetReason::RefusedStream, "upstream refused the stream");
      } else if (error_code != NGHTTP2_NO_ERROR) {
        s->fail(StreamResetReason::RemoteReset,
                std::string("upstream reset the stream: ") + nghttp2_http2_strerror(error_code));
      } else {
        s->fail(StreamResetReason::ConnectionTermination, "upstream ended the stream early");
      }
    }
    // Still held by a caller that has not released it: freed when it does.
    if (s->callbacks == nullptr) c.erase(*s);
    return 0;
  }

  void checkWatermark(Stream& s) {
    const size_t limit = pool_.settings_.buffer_limit;
    if (!s.above_watermark && s.out.length() > limit) {
      s.above_watermark = true;
      if (s.callbacks) s.callbacks->onAboveWriteBufferHighWatermark();
    } else if (s.above_watermark && s.out.length() < limit / 2) {
      s.above_watermark = false;
      if (s.callbacks) s.callbacks->onBelowWriteBufferLowWatermark();
    }
  }

  void erase(Stream& s) {
    // Both ends may let go in one turn (a reset whose RST_STREAM goes out
    // at once closes the stream inside resetStream): the first erases it.
    if (!s.listed) return;
    s.listed = false;
    const auto it = s.entry;
    if (s.id > 0 && !s.closed) nghttp2_session_set_stream_user_data(session_, s.id, nullptr);
    // Freed at the end of the turn: a caller may be inside a callback of it.
    pool_.loop_.deferredDelete(std::move(*it));
    streams_.erase(it);
    --open_;
    if (state_ == State::Closed) return;
    if (open_ == 0) {
      if (state_ == State::Draining) {
        close();
        return;
      }
      timer_->enable(pool_.settings_.idle_timeout);
    }
    pool_.onStreamDone(this);
  }

  void failAll(StreamResetReason reason, std::string_view detail) {
    // fail() may make the caller release or reset: walk a copy.
    std::vector<Stream*> live;
    for (auto& s : streams_)
      if (s->callbacks && !s->response_complete) live.push_back(s.get());
    for (Stream* s : live) {
      s->closed = true;
      s->fail(reason, detail);
    }
  }

  void onTimer() {
    if (state_ == State::Connecting) timed_out_ = true;
    if (state_ == State::Connecting || open_ == 0) close();  // connect or idle timeout
  }
  void onKeepalive() {
    if (state_ == State::Closed) return;
    if (ping_outstanding_) {
      failAll(StreamResetReason::ConnectionTermination, "upstream did not answer a keepalive PING");
      close();
      return;
    }
    ping_outstanding_ = true;
    nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, kKeepalivePing.data());
    keepalive_timer_->enable(pool_.settings_.http2.keepalive_timeout);
    sendPending();
  }

  // Requests and body bytes given during one loop turn leave in one
  // nghttp2_session_send at its end.
  struct SendSoon final : event::SoonTask {
    explicit SendSoon(Client& c) : SoonTask(c.pool_.loop_), client(c) {}
    void runSoon() override { client.sendPending(); }
    Client& client;
  };

  Http2ConnPool& pool_;
  SendSoon send_soon_{*this};
  std::unique_ptr<net::Connection> conn_;
  nghttp2_session* session_ = nullptr;
  std::unique_ptr<event::Timer> timer_;
  std::unique_ptr<event::Timer> keepalive_timer_;
  // Pooled nodes; each stream knows its own (erased in O(1) as it ends).
  Stream::List streams_;
  http::Http2HeaderBlock block_;
  net::Buffer output_;
  std::string_view scheme_;
  State state_ = State::Connecting;
  size_t open_ = 0;
  int in_recv_ = 0;
  bool sending_ = false;
  bool timed_out_ = false;
  bool ping_outstanding_ = false;
  bool close_after_recv_ = false;
  size_t header_bytes_ = 0;  // of the header block being received
};

// ---- Stream ----

void Http2ConnPool::Stream::encodeHeaders(const http::HeaderMap& h, bool end_stream) {
  client.submitRequest(*this, h, end_stream);
}

void Http2ConnPool::Stream::encodeData(net::Buffer& d, bool end_stream) {
  if (local_end || closed) {
    d.clear();
    return;
  }
  out.move(d);
  if (end_stream) local_end = true;
  client.resumeData(*this);
}

void Http2ConnPool::Stream::encodeTrailers(const http::HeaderMap& t) {
  if (local_end || closed) return;
  request_trailers = t;
  has_trailers = true;
  local_end = true;
  client.resumeData(*this);
}

void Http2ConnPool::Stream::readDisable(bool disable) {
  if (disable) {
    ++read_disabled;
  } else if (read_disabled > 0 && --read_disabled == 0) {
    client.consume(*this);
  }
}

void Http2ConnPool::Stream::release() {
  // A response can complete while the host still reads our request (it
  // answered early): nothing more of it is wanted.
  if (!closed && id > 0 && !local_end) {
    client.resetStream(*this);
    return;
  }
  client.streamFinished(*this);
}

void Http2ConnPool::Stream::reset() { client.resetStream(*this); }

// ---- Pool ----

Http2ConnPool::Http2ConnPool(event::Loop& loop, Host host, PoolSettings settings, stats::ClusterStats* cluster_stats)
    : loop_(loop), host_(std::move(host)), settings_(std::move(settings)), cluster_stats_(cluster_stats) {}

Http2ConnPool::~Http2ConnPool() {
  pending_.clear();
  auto clients = std::move(clients_);
  clients_.clear();
  for (auto& c : clients) {
    releaseConnectionSlot(c->holds_breaker_slot);
    c->close();
    countConnectionClosed(cluster_stats_, host_);  // onClientClosed no longer finds it
  }
}

void Http2ConnPool::update(const Host& host, const PoolSettings& settings, stats::ClusterStats* cluster_stats) {
  const bool tls_changed = settings.tls != settings_.tls;
  host_ = host;
  settings_ = settings;
  cluster_stats_ = cluster_stats;
  if (tls_changed) {
    std::vector<Client*> all;
    for (auto& c : clients_) all.push_back(c.get());
    for (Client* c : all) c->drain();
  }
}

Http2ConnPool::Client* Http2ConnPool::withRoom() {
  for (auto& c : clients_)
    if (c->room() > 0) return c.get();
  return nullptr;
}

PendingStream* Http2ConnPool::newStream(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                                        PoolCallbacks& callbacks, RoutingPriority priority) {
  const StreamRequest request{&response, &stream_callbacks, &callbacks};
  if (Client* c = withRoom()) {
    start(c, request);
    return nullptr;
  }
  const auto group = admitWaiting(settings_, cluster_stats_, pending_.size(), priority);
  if (!group) {
    failOverflow(callbacks);
    return nullptr;
  }
  return wait(request, *group);
}

PendingStream* Http2ConnPool::newStreamHolding(http::MessageDecoder& response, StreamCallbacks& stream_callbacks,
                                               PoolCallbacks& callbacks, BreakerGroup* held) {
  const StreamRequest request{&response, &stream_callbacks, &callbacks};
  if (Client* c = withRoom()) {
    if (held) held->pending.release();
    start(c, request);
    return nullptr;
  }
  return wait(request, held);
}

void Http2ConnPool::start(Client* c, const StreamRequest& r) {
  if (c->streams_started > 0 && cluster_stats_) cluster_stats_->upstream_cx_reused.inc();
  r.callbacks->onPoolReady(c->startStream(r));
}

PendingStream* Http2ConnPool::wait(const StreamRequest& r, BreakerGroup* group) {
  PendingStream& waiting = pending_.push(r, group);
  connectIfNeeded();
  bool any_live = false;
  for (auto& c : clients_) any_live |= c->state() == Client::State::Connecting || c->state() == Client::State::Ready;
  if (!any_live) {
    pending_.dropNewest();
    failOverflow(*r.callbacks);
    return nullptr;
  }
  return &waiting;
}

void Http2ConnPool::takeWaiting(WaitQueue& from) {
  pending_.takeAll(from);
  if (Client* c = withRoom()) {
    serveQueue(c);  // connects for what it cannot take
  } else if (!pending_.empty()) {
    connectIfNeeded();
  }
}

void Http2ConnPool::connectIfNeeded() {
  // One connection being made serves the whole queue up to the host's
  // stream limit, which it learns only once connected: connect another only
  // when every live connection is full.
  for (auto& c : clients_)
    if (c->state() == Client::State::Connecting || c->room() > 0) return;
  if (clients_.size() < settings_.max_connections) connectOne();
}

bool Http2ConnPool::connectOne() {
  if (!takeConnectionSlot(settings_, cluster_stats_)) return false;
  clients_.push_back(
      std::make_unique<Client>(*this, net::Connection::connect(loop_, host_.address, settings_.newTransport())));
  clients_.back()->holds_breaker_slot = settings_.shared;
  countConnectionOpened(cluster_stats_, host_);
  return true;
}

void Http2ConnPool::adopt(std::unique_ptr<net::Connection> conn, net::ConnectionCallbacks* previous_owner,
                          ClusterShared* breaker_slot) {
  clients_.push_back(std::make_unique<Client>(*this, std::move(conn), previous_owner));
  Client* c = clients_.back().get();
  c->holds_breaker_slot = breaker_slot;
  c->onEvent(net::ConnectionEvent::Connected);
}

void Http2ConnPool::serveQueue(Client* c) {
  while (!pending_.empty() && c->room() > 0) start(c, pending_.pop());
  if (!pending_.empty()) connectIfNeeded();
}

void Http2ConnPool::onClientReady(Client* c) { serveQueue(c); }

void Http2ConnPool::onStreamDone(Client* c) { serveQueue(c); }

void Http2ConnPool::onClientConnectFailed(Client* c, StreamResetReason why) {
  countConnectFailure(cluster_stats_, host_, why);
  // Waiting requests fail only when no other connection can serve them.
  bool other_live = false;
  for (auto& other : clients_)
    other_live |=
        other.get() != c && (other->state() == Client::State::Connecting || other->state() == Client::State::Ready);
  std::vector<StreamRequest> waiting;
  if (!other_live)
    while (!pending_.empty()) waiting.push_back(pending_.pop());
  onClientClosed(c);
  for (const StreamRequest& r : waiting) r.callbacks->onPoolFailure(why, resetReasonName(why));
}

void Http2ConnPool::onClientClosed(Client* c) {
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->get() != c) continue;
    countConnectionClosed(cluster_stats_, host_);
    releaseConnectionSlot((*it)->holds_breaker_slot);
    loop_.deferredDelete(std::move(*it));
    clients_.erase(it);
    break;
  }
  if (!pending_.empty()) connectIfNeeded();
}

}  // namespace sluice::upstream
