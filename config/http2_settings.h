#pragma once
// HTTP/2 settings of one side of a connection, as plain values: a listener's
// `http.http2` block, and (next) a cluster's. Defaults follow what HAProxy,
// nghttpx and Envoy's edge guide agree on; each is sent to the peer in our
// SETTINGS frame or enforced on what the peer sends.
//
//   http2:
//     max_concurrent_streams: 100          # SETTINGS_MAX_CONCURRENT_STREAMS
//     initial_stream_window_size: 65535    # per stream: what a slow reader may leave unread
//     initial_connection_window_size: 1048576
//     max_frame_size: 16384                # SETTINGS_MAX_FRAME_SIZE (16384..16777215)
//     keepalive_interval: 0                # PING an idle connection this often; 0 = never
//     keepalive_timeout: 20s               # a PING not answered within this closes the connection
//     max_stream_resets_per_second: 100    # Rapid Reset: client resets above this rate...
//     max_stream_resets_burst: 1000        # ...once this burst is spent -> GOAWAY ENHANCE_YOUR_CALM

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::config {

class MapReader;
using Duration = std::chrono::milliseconds;  // as in config/model.h

struct Http2Settings {
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_stream_window_size = 65535;
  uint32_t initial_connection_window_size = 1024 * 1024;
  uint32_t max_frame_size = 16384;
  Duration keepalive_interval{0};
  Duration keepalive_timeout{std::chrono::seconds(20)};
  uint32_t max_stream_resets_per_second = 100;
  uint32_t max_stream_resets_burst = 1000;

  bool operator==(const Http2Settings&) const = default;
};

// Which HTTP version a listener speaks to its clients. `auto` takes HTTP/2
// from a TLS client that chose `h2` by ALPN, or from a plaintext client
// whose first bytes are the HTTP/2 connection preface (prior knowledge);
// HTTP/1.1 otherwise.
enum class HttpCodec : uint8_t { Auto, Http1, Http2 };

std::optional<HttpCodec> parseHttpCodec(std::string_view s);
std::string_view httpCodecName(HttpCodec c);

// Reads the mapping at `key` of `r` into `out`; errors go to r.ctx().
void readHttp2Settings(MapReader& r, std::string_view key, Http2Settings& out);

}  // namespace sluice::config
