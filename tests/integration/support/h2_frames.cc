#include "tests/integration/support/h2_frames.h"

#include <nghttp2/nghttp2.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace sluice::itest::h2 {
namespace {

constexpr size_t kDefaultMaxFrame = 16384;
constexpr size_t kLogFrames = 10000;
constexpr size_t kLogPayload = 256;
constexpr Millis kSendTimeout{5000};

uint32_t readBe32(std::string_view p, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[at + 3]));
}

// The part of a HEADERS or DATA payload after padding and priority fields;
// nullopt when the frame is too short for what its flags declare.
std::optional<std::string_view> unpadded(const Frame& f, size_t priority_bytes) {
  std::string_view p = f.payload;
  size_t pad = 0;
  if (f.flags & kPadded) {
    if (p.empty()) return std::nullopt;
    pad = static_cast<uint8_t>(p[0]);
    p.remove_prefix(1);
  }
  if (p.size() < priority_bytes + pad) return std::nullopt;
  p.remove_prefix(priority_bytes);
  p.remove_suffix(pad);
  return p;
}

}  // namespace

std::string errorName(uint32_t code) {
  static const char* const kNames[] = {"NO_ERROR",
                                       "PROTOCOL_ERROR",
                                       "INTERNAL_ERROR",
                                       "FLOW_CONTROL_ERROR",
                                       "SETTINGS_TIMEOUT",
                                       "STREAM_CLOSED",
                                       "FRAME_SIZE_ERROR",
                                       "REFUSED_STREAM",
                                       "CANCEL",
                                       "COMPRESSION_ERROR",
                                       "CONNECT_ERROR",
                                       "ENHANCE_YOUR_CALM",
                                       "INADEQUATE_SECURITY",
                                       "HTTP_1_1_REQUIRED"};
  if (code < std::size(kNames)) return kNames[code];
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", code);
  return buf;
}

std::string frameTypeName(uint8_t type) {
  static const char* const kNames[] = {"DATA",         "HEADERS", "PRIORITY", "RST_STREAM",    "SETTINGS",
                                       "PUSH_PROMISE", "PING",    "GOAWAY",   "WINDOW_UPDATE", "CONTINUATION"};
  if (type < std::size(kNames)) return kNames[type];
  return "type" + std::to_string(type);
}

std::string Frame::describe() const {
  std::ostringstream o;
  o << frameTypeName(type) << " stream=" << stream << " flags=0x" << std::hex << int(flags) << std::dec
    << " len=" << payload.size();
  if ((type == kRstStream && payload.size() >= 4)) o << " (" << errorName(readBe32(payload, 0)) << ")";
  if (type == kGoAway && payload.size() >= 8)
    o << " (last=" << (readBe32(payload, 0) & kMaxWindow) << " " << errorName(readBe32(payload, 4)) << ")";
  if (type == kWindowUpdate && payload.size() >= 4) o << " (+" << (readBe32(payload, 0) & kMaxWindow) << ")";
  return o.str();
}

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload,
                  std::optional<uint32_t> length) {
  const uint32_t len = length.value_or(static_cast<uint32_t>(payload.size()));
  std::string f;
  f.reserve(9 + payload.size());
  f.push_back(static_cast<char>(len >> 16));
  f.push_back(static_cast<char>(len >> 8));
  f.push_back(static_cast<char>(len));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  f.append(be32(stream & kMaxWindow));
  f.append(payload);
  return f;
}

std::string settingsPayload(const Settings& settings) {
  std::string p;
  for (auto [id, value] : settings) {
    p.push_back(static_cast<char>(id >> 8));
    p.push_back(static_cast<char>(id));
    p.append(be32(value));
  }
  return p;
}

HeaderList requestHeaders(std::string_view method, std::string_view path, const HeaderList& extra,
                          std::string_view authority) {
  HeaderList h{{":method", std::string(method)},
               {":scheme", "http"},
               {":authority", std::string(authority)},
               {":path", std::string(path)}};
  h.insert(h.end(), extra.begin(), extra.end());
  return h;
}

namespace hpack {

std::string integer(uint32_t value, int prefix_bits, uint8_t first) {
  const uint32_t max = (1u << prefix_bits) - 1;
  std::string out;
  if (value < max) {
    out.push_back(static_cast<char>(first | value));
    return out;
  }
  out.push_back(static_cast<char>(first | max));
  value -= max;
  while (value >= 128) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

std::string string(std::string_view s) { return integer(static_cast<uint32_t>(s.size()), 7, 0x00) + std::string(s); }

std::string indexed(uint32_t index) { return integer(index, 7, 0x80); }

std::string literal(std::string_view name, std::string_view value) {
  return std::string(1, '\0') + string(name) + string(value);
}

std::string literalIndexedName(uint32_t name_index, std::string_view value) {
  return integer(name_index, 4, 0x00) + string(value);
}

std::string literalWithIndexing(std::string_view name, std::string_view value) {
  return std::string(1, '\x40') + string(name) + string(value);
}

std::string tableSizeUpdate(uint32_t size) { return integer(size, 5, 0x20); }

std::string literalBlock(const HeaderList& headers) {
  std::string block;
  for (const auto& [n, v] : headers) block += literal(n, v);
  return block;
}

}  // namespace hpack

int StreamState::status() const {
  auto s = findHeader(headers, ":status");
  return s ? std::atoi(s->c_str()) : 0;
}

std::string StreamState::describe() const {
  std::ostringstream o;
  o << "status=" << status() << " headers={" << describeHeaders(headers) << "} body=" << body_bytes << " bytes";
  if (end_stream) o << " END_STREAM";
  if (rst) o << " RST_STREAM(" << errorName(*rst) << ")";
  if (!body.empty()) o << " '" << body.substr(0, 200) << "'";
  return o.str();
}

Client::Client(uint16_t port, ClientOptions options) : options_(options) {
  int err = 0;
  fd_ = connectLoopback(port, options_.connect_timeout, &err, options_.rcvbuf);
  nghttp2_hd_deflate_new(&deflater_, 4096);
  nghttp2_hd_inflate_new(&inflater_);
}

Client::~Client() {
  if (deflater_) nghttp2_hd_deflate_del(deflater_);
  if (inflater_) nghttp2_hd_inflate_del(inflater_);
}

bool Client::sendRaw(std::string_view bytes) {
  if (!fd_) return false;
  return sendAll(fd_.get(), bytes, Deadline(kSendTimeout), &send_err_);
}

bool Client::handshake(const Settings& settings, Millis timeout) {
  for (auto [id, value] : settings)
    if (id == kHeaderTableSize) table_sizes_pending_.push_back(value);
  if (!sendRaw(std::string(kPreface) + frame(kSettings, 0, 0, settingsPayload(settings)))) return false;
  return waitFor([this] { return gotServerSettings(); }, timeout);
}

bool Client::sendFrame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  return sendRaw(frame(type, flags, stream, payload));
}

bool Client::sendSettings(const Settings& settings) {
  for (auto [id, value] : settings)
    if (id == kHeaderTableSize) table_sizes_pending_.push_back(value);
  return sendFrame(kSettings, 0, 0, settingsPayload(settings));
}

bool Client::sendSettingsAck() { return sendFrame(kSettings, kAck, 0, ""); }

bool Client::sendPing(std::string_view opaque8, bool ack) { return sendFrame(kPing, ack ? kAck : 0, 0, opaque8); }

bool Client::sendWindowUpdate(uint32_t stream, uint32_t increment) {
  return sendFrame(kWindowUpdate, 0, stream, be32(increment));
}

bool Client::sendRst(uint32_t stream, uint32_t code) { return sendFrame(kRstStream, 0, stream, be32(code)); }

bool Client::sendPriority(uint32_t stream, uint32_t depends_on, uint8_t weight, bool exclusive) {
  std::string p = be32(depends_on | (exclusive ? 0x80000000u : 0u));
  p.push_back(static_cast<char>(weight));
  return sendFrame(kPriority, 0, stream, p);
}

bool Client::sendData(uint32_t stream, std::string_view data, bool end_stream) {
  sent_[stream] += data.size();
  sent_[0] += data.size();
  // Split at the default SETTINGS_MAX_FRAME_SIZE; an empty body is one empty frame.
  std::string out;
  do {
    const size_t n = std::min(data.size(), kDefaultMaxFrame);
    const bool last = n == data.size();
    out += frame(kData, last && end_stream ? kEndStream : 0, stream, data.substr(0, n));
    data.remove_prefix(n);
  } while (!data.empty());
  return sendRaw(out);
}

int64_t Client::sendWindow(uint32_t stream) const {
  auto sent = [this](uint32_t id) {
    auto it = sent_.find(id);
    return static_cast<int64_t>(it == sent_.end() ? 0 : it->second);
  };
  auto it = server_settings_.find(kInitialWindowSize);
  const int64_t initial = it == server_settings_.end() ? 65535 : it->second;
  const int64_t stream_window = initial + static_cast<int64_t>(windowGranted(stream)) - sent(stream);
  const int64_t conn_window = 65535 + static_cast<int64_t>(windowGranted(0)) - sent(0);
  return std::min(stream_window, conn_window);
}

bool Client::sendBody(uint32_t stream, std::string_view data, bool end_stream, Millis timeout, Millis stall,
                      uint64_t* sent) {
  Deadline deadline(timeout);
  uint64_t done = 0;
  bool ok = true;
  for (;;) {
    const int64_t window = sendWindow(stream);
    if (window > 0 && !data.empty()) {
      const size_t n = std::min({data.size(), kDefaultMaxFrame, static_cast<size_t>(window)});
      if (!sendData(stream, data.substr(0, n), end_stream && n == data.size())) {
        ok = false;
        break;
      }
      data.remove_prefix(n);
      done += n;
      if (data.empty()) break;
      continue;
    }
    if (data.empty()) {  // an empty body: one empty frame
      ok = sendData(stream, "", end_stream);
      break;
    }
    // Out of window: read until the server grants more.
    const auto before = windowGranted(stream) + windowGranted(0);
    Deadline wait =
        stall.count() > 0 ? Deadline(std::min<Clock::duration>(stall, deadline.at() - Clock::now())) : deadline;
    waitFor([&] { return windowGranted(stream) + windowGranted(0) != before && sendWindow(stream) > 0; },
            std::chrono::duration_cast<Millis>(wait.at() - Clock::now()));
    if (sendWindow(stream) <= 0) {
      ok = false;
      break;
    }
  }
  if (sent) *sent = done;
  return ok;
}

std::string Client::deflate(const HeaderList& headers) {
  std::vector<nghttp2_nv> nv;
  nv.reserve(headers.size());
  for (const auto& [n, v] : headers)
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
  std::string out(nghttp2_hd_deflate_bound(deflater_, nv.data(), nv.size()), '\0');
  const ssize_t n =
      nghttp2_hd_deflate_hd(deflater_, reinterpret_cast<uint8_t*>(out.data()), out.size(), nv.data(), nv.size());
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

bool Client::sendHeaders(uint32_t stream, const HeaderList& headers, bool end_stream) {
  return sendRaw(headersFrames(stream, headers, end_stream));
}

std::string Client::headersFrames(uint32_t stream, const HeaderList& headers, bool end_stream) {
  const std::string encoded = deflate(headers);
  std::string_view block = encoded;
  std::string out;
  bool first = true;
  do {
    const size_t n = std::min(block.size(), kDefaultMaxFrame);
    const bool last = n == block.size();
    const uint8_t flags = static_cast<uint8_t>((last ? kEndHeaders : 0) | (first && end_stream ? kEndStream : 0));
    out += frame(first ? kHeaders : kContinuation, flags, stream, block.substr(0, n));
    block.remove_prefix(n);
    first = false;
  } while (!block.empty());
  return out;
}

bool Client::sendHeaderBlock(uint32_t stream, std::string_view block, bool end_stream, bool end_headers) {
  const uint8_t flags = static_cast<uint8_t>((end_stream ? kEndStream : 0) | (end_headers ? kEndHeaders : 0));
  return sendFrame(kHeaders, flags, stream, block);
}

uint32_t Client::nextStreamId() {
  const uint32_t id = next_stream_;
  next_stream_ += 2;
  return id;
}

uint32_t Client::request(const HeaderList& headers, std::optional<std::string_view> body) {
  const uint32_t id = nextStreamId();
  if (!sendHeaders(id, headers, !body.has_value())) return id;
  if (body) sendData(id, *body, true);
  return id;
}

bool Client::readFrame(Deadline deadline, Frame& f) {
  for (;;) {
    const size_t have = in_.size() - in_off_;
    if (have >= 9) {
      const auto* h = reinterpret_cast<const uint8_t*>(in_.data() + in_off_);
      const size_t len = (size_t{h[0]} << 16) | (size_t{h[1]} << 8) | h[2];
      if (have >= 9 + len) {
        f.type = h[3];
        f.flags = h[4];
        f.stream = readBe32(std::string_view(in_).substr(in_off_ + 5, 4), 0) & kMaxWindow;
        f.payload.assign(in_, in_off_ + 9, len);
        in_off_ += 9 + len;
        if (in_off_ > (1 << 20)) {
          in_.erase(0, in_off_);
          in_off_ = 0;
        }
        return true;
      }
    }
    if (closed_ || !fd_) return false;
    char buf[64 * 1024];
    int err = 0;
    const ssize_t n = recvSome(fd_.get(), buf, sizeof buf, deadline, &err);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      bytes_read_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0 || err != ETIMEDOUT) {
      closed_ = true;
      read_err_ = n == 0 ? 0 : err;
    }
    return false;
  }
}

const Frame* Client::pump(Deadline deadline) {
  if (!readFrame(deadline, current_)) return nullptr;
  largest_frame_ = std::max(largest_frame_, current_.payload.size());
  handle(current_);
  if (log_.size() < kLogFrames) {
    log_.push_back(current_);
    if (log_.back().payload.size() > kLogPayload) log_.back().payload.resize(kLogPayload);
  }
  return &current_;
}

void Client::handle(const Frame& f) {
  switch (f.type) {
    case kSettings:
      if (f.flags & kAck) {
        ++settings_acks_;
        if (!table_sizes_pending_.empty()) {
          nghttp2_hd_inflate_change_table_size(inflater_, table_sizes_pending_.front());
          table_sizes_pending_.erase(table_sizes_pending_.begin());
        }
        return;
      }
      ++server_settings_frames_;
      for (size_t at = 0; at + 6 <= f.payload.size(); at += 6) {
        const uint16_t id =
            static_cast<uint16_t>((static_cast<uint8_t>(f.payload[at]) << 8) | static_cast<uint8_t>(f.payload[at + 1]));
        server_settings_[id] = readBe32(f.payload, at + 2);
      }
      if (options_.ack_settings) sendSettingsAck();
      return;
    case kPing:
      if (f.flags & kAck) {
        ++ping_acks_;
      } else {
        ++pings_received_;
        if (options_.answer_pings) sendPing(f.payload, true);
      }
      return;
    case kGoAway:
      if (f.payload.size() >= 8)
        goaway_ = GoAway{readBe32(f.payload, 0) & kMaxWindow, readBe32(f.payload, 4), f.payload.substr(8)};
      return;
    case kRstStream:
      if (f.payload.size() >= 4) streams_[f.stream].rst = readBe32(f.payload, 0);
      return;
    case kWindowUpdate:
      if (f.payload.size() >= 4) granted_[f.stream] += readBe32(f.payload, 0) & kMaxWindow;
      return;
    case kHeaders: {
      auto frag = unpadded(f, (f.flags & kPriorityFlag) ? 5 : 0);
      block_.assign(frag ? *frag : std::string_view());
      block_stream_ = f.stream;
      block_end_stream_ = (f.flags & kEndStream) != 0;
      if (f.flags & kEndHeaders) headerBlockDone(block_stream_, block_end_stream_);
      return;
    }
    case kContinuation:
      block_.append(f.payload);
      if (f.flags & kEndHeaders) headerBlockDone(block_stream_, block_end_stream_);
      return;
    case kData: {
      StreamState& s = streams_[f.stream];
      if (auto body = unpadded(f, 0)) {
        s.body_bytes += body->size();
        if (s.body.size() < (1 << 20)) s.body.append(body->substr(0, (1 << 20) - s.body.size()));
      }
      if (f.flags & kEndStream) s.end_stream = true;
      if (options_.auto_window_update && !f.payload.empty()) {
        const auto n = static_cast<uint32_t>(f.payload.size());
        std::string out = frame(kWindowUpdate, 0, 0, be32(n));
        if (!s.end_stream) out += frame(kWindowUpdate, 0, f.stream, be32(n));
        sendRaw(out);
      }
      return;
    }
    default:
      return;
  }
}

void Client::headerBlockDone(uint32_t id, bool end_stream) {
  HeaderList fields;
  auto* in = reinterpret_cast<const uint8_t*>(block_.data());
  size_t left = block_.size();
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    const ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, left, 1);
    if (n < 0) {
      fields.emplace_back(":decode-error", nghttp2_strerror(static_cast<int>(n)));
      break;
    }
    in += n;
    left -= static_cast<size_t>(n);
    if (flags & NGHTTP2_HD_INFLATE_EMIT)
      fields.emplace_back(std::string(reinterpret_cast<char*>(nv.name), nv.namelen),
                          std::string(reinterpret_cast<char*>(nv.value), nv.valuelen));
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(inflater_);
      break;
    }
    if (n == 0 && (flags & NGHTTP2_HD_INFLATE_EMIT) == 0) break;
  }
  block_.clear();
  StreamState& s = streams_[id];
  const auto status = findHeader(fields, ":status");
  if (status && !status->empty() && (*status)[0] == '1') {
    s.interim.push_back(std::move(fields));
  } else if (s.headers.empty()) {
    s.headers = std::move(fields);
  } else {
    s.trailers = std::move(fields);
  }
  if (end_stream) s.end_stream = true;
}

bool Client::waitFor(const std::function<bool()>& pred, Millis timeout) {
  Deadline deadline(timeout);
  while (!pred()) {
    if (!pump(deadline)) return pred();
  }
  return true;
}

std::optional<GoAway> Client::waitForGoAway(Millis timeout) {
  waitFor([this] { return goaway_.has_value(); }, timeout);
  return goaway_;
}

std::optional<uint32_t> Client::waitForRst(uint32_t id, Millis timeout) {
  waitFor([this, id] { return streams_[id].rst.has_value(); }, timeout);
  return streams_[id].rst;
}

const StreamState& Client::waitForResponse(uint32_t id, Millis timeout) {
  waitFor([this, id] { return streams_[id].done(); }, timeout);
  return streams_[id];
}

bool Client::waitClosed(Millis timeout) {
  Deadline deadline(timeout);
  while (!closed_ && !deadline.expired()) pump(deadline);
  return closed_;
}

void Client::drain(Millis quiet) {
  Deadline deadline(quiet);
  while (pump(deadline)) {
  }
}

std::string Client::describeEnd() const {
  if (!closed_) return "open";
  if (read_err_ == 0) return "EOF";
  return std::strerror(read_err_);
}

uint64_t Client::windowGranted(uint32_t id) const {
  auto it = granted_.find(id);
  return it == granted_.end() ? 0 : it->second;
}

size_t Client::framesOfType(uint8_t type) const {
  return static_cast<size_t>(
      std::count_if(log_.begin(), log_.end(), [type](const Frame& f) { return f.type == type; }));
}

std::string Client::describeFrames(size_t last) const {
  std::string out;
  const size_t from = log_.size() > last ? log_.size() - last : 0;
  for (size_t i = from; i < log_.size(); ++i) out += "\n  " + log_[i].describe();
  return out;
}

std::string Client::describe() const {
  std::ostringstream o;
  o << "connection " << describeEnd() << ", " << log_.size() << " frames read";
  if (goaway_)
    o << ", GOAWAY(last=" << goaway_->last_stream_id << ", " << errorName(goaway_->error_code) << ", '"
      << goaway_->debug << "')";
  o << "; last frames:" << describeFrames();
  return o.str();
}

}  // namespace sluice::itest::h2
