#pragma once
// A raw HTTP/2 client for the integration tests: one loopback socket, frames
// written exactly as the test asks (malformed ones included), frames read
// back one at a time. Nothing here decides what is valid: a test states what
// it sends and what it expects (RFC 9113).
//
// Header blocks come two ways: nghttp2's HPACK deflater (sendHeaders), or
// built by hand here (hpack::literal and friends, RFC 7541 without Huffman)
// so that a test does not depend only on the encoder of the library the
// proxy itself decodes with. Responses' header blocks are decoded with
// nghttp2's inflater; every HEADERS/CONTINUATION block received goes through
// it, in order, so its dynamic table stays in step with the proxy's.
//
// Reading: pump() reads and handles one frame: a SETTINGS is recorded and
// acknowledged, a PING answered (both can be turned off), a response's
// HEADERS decoded into its StreamState, DATA appended to it (and its window
// given back, unless turned off), RST_STREAM and GOAWAY recorded. The ACK of
// a SETTINGS_HEADER_TABLE_SIZE we sent holds our decoder to it, so a server
// that ignores the setting fails to decode. Every wait takes a timeout; a
// closed connection ends every wait.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/integration/support/http_message.h"
#include "tests/integration/support/net.h"

struct nghttp2_hd_deflater;
struct nghttp2_hd_inflater;

namespace sluice::itest::h2 {

// Frame types (RFC 9113 6).
enum FrameType : uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kPriority = 0x2,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPushPromise = 0x5,
  kPing = 0x6,
  kGoAway = 0x7,
  kWindowUpdate = 0x8,
  kContinuation = 0x9,
};

// Flags.
inline constexpr uint8_t kEndStream = 0x1;
inline constexpr uint8_t kAck = 0x1;
inline constexpr uint8_t kEndHeaders = 0x4;
inline constexpr uint8_t kPadded = 0x8;
inline constexpr uint8_t kPriorityFlag = 0x20;

// Error codes (RFC 9113 7).
enum ErrorCode : uint32_t {
  kNoError = 0x0,
  kProtocolError = 0x1,
  kInternalError = 0x2,
  kFlowControlError = 0x3,
  kSettingsTimeout = 0x4,
  kStreamClosed = 0x5,
  kFrameSizeError = 0x6,
  kRefusedStream = 0x7,
  kCancel = 0x8,
  kCompressionError = 0x9,
  kConnectError = 0xa,
  kEnhanceYourCalm = 0xb,
  kInadequateSecurity = 0xc,
  kHttp11Required = 0xd,
};

// SETTINGS parameters (RFC 9113 6.5.2).
enum SettingId : uint16_t {
  kHeaderTableSize = 0x1,
  kEnablePush = 0x2,
  kMaxConcurrentStreams = 0x3,
  kInitialWindowSize = 0x4,
  kMaxFrameSize = 0x5,
  kMaxHeaderListSize = 0x6,
};

inline constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr uint32_t kMaxWindow = 0x7fffffff;

// "PROTOCOL_ERROR", "ENHANCE_YOUR_CALM", "0x2a"...
std::string errorName(uint32_t code);
std::string frameTypeName(uint8_t type);

struct Frame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream = 0;
  std::string payload;
  std::string describe() const;  // "RST_STREAM stream=3 flags=0x0 len=4 (CANCEL)"
};

// The 9-byte frame header and the payload. `length` overrides the declared
// length (a lying header); otherwise it is payload.size().
std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload,
                  std::optional<uint32_t> length = std::nullopt);
std::string be32(uint32_t v);
using Settings = std::vector<std::pair<uint16_t, uint32_t>>;
std::string settingsPayload(const Settings& settings);

// Request headers: the four pseudo-header fields, then `extra` (names as given).
HeaderList requestHeaders(std::string_view method, std::string_view path, const HeaderList& extra = {},
                          std::string_view authority = "example.com");

// HPACK (RFC 7541) built by hand: no Huffman, no dynamic table unless asked.
namespace hpack {
// An integer with an N-bit prefix (5.1); `first` holds the pattern bits above the prefix.
std::string integer(uint32_t value, int prefix_bits, uint8_t first);
// A string literal, not Huffman-coded (5.2).
std::string string(std::string_view s);
// Indexed field (6.1): static 1..61, dynamic from 62.
std::string indexed(uint32_t index);
// Literal without indexing, new name (6.2.2).
std::string literal(std::string_view name, std::string_view value);
// Literal without indexing, name from the table (6.2.2).
std::string literalIndexedName(uint32_t name_index, std::string_view value);
// Literal with incremental indexing, new name (6.2.1): enters the dynamic table.
std::string literalWithIndexing(std::string_view name, std::string_view value);
// Dynamic table size update (6.3).
std::string tableSizeUpdate(uint32_t size);
// A whole block of literal-without-indexing fields.
std::string literalBlock(const HeaderList& headers);
}  // namespace hpack

// What arrived for one stream.
struct StreamState {
  std::vector<HeaderList> interim;  // 1xx heads
  HeaderList headers;               // the final response head
  HeaderList trailers;
  std::string body;
  uint64_t body_bytes = 0;
  bool end_stream = false;
  std::optional<uint32_t> rst;  // RST_STREAM error code
  int status() const;           // :status of the final head, 0 before it
  std::optional<std::string> header(std::string_view name) const { return findHeader(headers, name); }
  bool done() const { return end_stream || rst.has_value(); }
  std::string describe() const;
};

struct GoAway {
  uint32_t last_stream_id = 0;
  uint32_t error_code = 0;
  std::string debug;
};

struct ClientOptions {
  Millis connect_timeout{2000};
  int rcvbuf = 0;                  // > 0: fixed SO_RCVBUF (a slow reader's small window)
  bool ack_settings = true;        // acknowledge the server's SETTINGS
  bool answer_pings = true;        // answer the server's PINGs
  bool auto_window_update = true;  // give back DATA's window (stream and connection) at once
};

class Client {
 public:
  explicit Client(uint16_t port, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  // ---- Writing. False when the bytes could not all be sent (the peer
  // closed, or 5 s passed); lastSendError() says why.
  bool sendRaw(std::string_view bytes);
  // The preface, our SETTINGS, then waits (bounded) for the server's
  // SETTINGS; true when it arrived.
  bool handshake(const Settings& settings = {}, Millis timeout = Millis(3000));
  bool sendFrame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload);
  bool sendSettings(const Settings& settings);
  bool sendSettingsAck();
  bool sendPing(std::string_view opaque8 = "sluice!!", bool ack = false);
  bool sendWindowUpdate(uint32_t stream, uint32_t increment);
  bool sendRst(uint32_t stream, uint32_t code);
  bool sendPriority(uint32_t stream, uint32_t depends_on, uint8_t weight, bool exclusive = false);
  bool sendData(uint32_t stream, std::string_view data, bool end_stream);
  // Sends `data` no faster than the server's windows allow (its
  // SETTINGS_INITIAL_WINDOW_SIZE and WINDOW_UPDATEs), reading frames while
  // it waits. False when `timeout` passed or the connection closed first;
  // `stall` > 0: also false once no window came for that long (*sent says how far it got).
  bool sendBody(uint32_t stream, std::string_view data, bool end_stream, Millis timeout = Millis(10000),
                Millis stall = Millis(0), uint64_t* sent = nullptr);
  // What the server's windows allow us to send on `stream` now.
  int64_t sendWindow(uint32_t stream) const;
  // Encodes with nghttp2's deflater (keeps its dynamic table) and sends
  // HEADERS, split into CONTINUATIONs over 16384 bytes.
  bool sendHeaders(uint32_t stream, const HeaderList& headers, bool end_stream);
  // The frames sendHeaders would send, for a test that batches many (the
  // deflater's table advances: send them, in order).
  std::string headersFrames(uint32_t stream, const HeaderList& headers, bool end_stream);
  // A header block already encoded (by hand), in one HEADERS frame.
  bool sendHeaderBlock(uint32_t stream, std::string_view block, bool end_stream, bool end_headers = true);
  // nghttp2's encoding of `headers` (advances the deflater's table: send it).
  std::string deflate(const HeaderList& headers);
  // The next client stream id: 1, 3, 5...; each call takes one.
  uint32_t nextStreamId();
  int lastSendError() const { return send_err_; }

  // A whole request on a new stream: HEADERS (+ DATA when body is set);
  // returns the stream id.
  uint32_t request(const HeaderList& headers, std::optional<std::string_view> body = std::nullopt);

  // ---- Reading.
  // Reads and handles one frame; nullptr on close, error or deadline.
  const Frame* pump(Deadline deadline);
  // Pumps frames until pred() holds, the connection closes, or timeout.
  bool waitFor(const std::function<bool()>& pred, Millis timeout = Millis(3000));
  std::optional<GoAway> waitForGoAway(Millis timeout = Millis(3000));
  // The RST_STREAM code for `stream`; nullopt when none came.
  std::optional<uint32_t> waitForRst(uint32_t stream, Millis timeout = Millis(3000));
  // Until the stream ended (END_STREAM or RST_STREAM); its state either way.
  const StreamState& waitForResponse(uint32_t stream, Millis timeout = Millis(5000));
  // Until the peer closed the connection (EOF or RST); frames are handled on the way.
  bool waitClosed(Millis timeout = Millis(3000));
  // Reads what is there within `quiet` without blocking longer.
  void drain(Millis quiet = Millis(100));

  // ---- What arrived.
  bool closed() const { return closed_; }
  std::string describeEnd() const;  // "open", "EOF", "Connection reset by peer"...
  const std::optional<GoAway>& goAway() const { return goaway_; }
  const std::map<uint16_t, uint32_t>& serverSettings() const { return server_settings_; }
  bool gotServerSettings() const { return server_settings_frames_ > 0; }
  int settingsAcks() const { return settings_acks_; }
  int pingAcks() const { return ping_acks_; }
  int pingsReceived() const { return pings_received_; }
  uint64_t bytesRead() const { return bytes_read_; }
  // The longest frame payload read so far.
  size_t largestFrame() const { return largest_frame_; }
  // Sum of the WINDOW_UPDATE increments the server sent for `stream` (0: the connection).
  uint64_t windowGranted(uint32_t stream) const;
  const StreamState& stream(uint32_t id) { return streams_[id]; }
  // The frames read so far (first 10,000; payloads cut at 256 bytes).
  const std::vector<Frame>& frames() const { return log_; }
  size_t framesOfType(uint8_t type) const;
  std::string describeFrames(size_t last = 20) const;
  // For failure messages: the GOAWAY, the close, the last frames.
  std::string describe() const;

 private:
  bool readFrame(Deadline deadline, Frame& f);
  void handle(const Frame& f);
  void headerBlockDone(uint32_t stream, bool end_stream);

  ClientOptions options_;
  Fd fd_;
  std::string in_;
  size_t in_off_ = 0;
  bool closed_ = false;
  int read_err_ = 0;
  int send_err_ = 0;
  uint64_t bytes_read_ = 0;
  size_t largest_frame_ = 0;
  // A SETTINGS_HEADER_TABLE_SIZE we sent: our decoder holds the server to it once acknowledged.
  std::vector<uint32_t> table_sizes_pending_;
  uint32_t next_stream_ = 1;
  nghttp2_hd_deflater* deflater_ = nullptr;
  nghttp2_hd_inflater* inflater_ = nullptr;
  // A header block being received (HEADERS without END_HEADERS, then CONTINUATIONs).
  std::string block_;
  uint32_t block_stream_ = 0;
  bool block_end_stream_ = false;
  std::map<uint32_t, StreamState> streams_;
  std::map<uint32_t, uint64_t> granted_;
  std::map<uint32_t, uint64_t> sent_;  // DATA payload bytes sent per stream; 0: all
  std::map<uint16_t, uint32_t> server_settings_;
  int server_settings_frames_ = 0;
  int settings_acks_ = 0;
  int ping_acks_ = 0;
  int pings_received_ = 0;
  std::optional<GoAway> goaway_;
  std::vector<Frame> log_;
  Frame current_;
};

}  // namespace sluice::itest::h2
