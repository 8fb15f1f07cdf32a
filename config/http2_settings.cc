#include "config/http2_settings.h"

#include "config/yaml_reader.h"

namespace sluice::config {

std::optional<HttpCodec> parseHttpCodec(std::string_view s) {
  if (s == "auto") return HttpCodec::Auto;
  if (s == "http1") return HttpCodec::Http1;
  if (s == "http2") return HttpCodec::Http2;
  return std::nullopt;
}

std::string_view httpCodecName(HttpCodec c) {
  switch (c) {
    case HttpCodec::Auto: return "auto";
    case HttpCodec::Http1: return "http1";
    case HttpCodec::Http2: return "http2";
  }
  return "auto";
}

void readHttp2Settings(MapReader& parent, std::string_view key, Http2Settings& out) {
  if (!parent.has(key)) return;
  MapReader r(parent.ctx(), parent.child(key), parent.childPath(key));
  if (!r.isMap()) {
    parent.ctx().error(parent.locOf(key), parent.childPath(key), "expected a mapping");
    return;
  }
  // RFC 9113 6.5.2 bounds the windows and the frame size.
  r.uint32("max_concurrent_streams", out.max_concurrent_streams, 1, 1u << 20);
  r.uint32("initial_stream_window_size", out.initial_stream_window_size, 65535, 0x7fffffff);
  r.uint32("initial_connection_window_size", out.initial_connection_window_size, 65535, 0x7fffffff);
  r.uint32("max_frame_size", out.max_frame_size, 16384, 16777215);
  r.duration("keepalive_interval", out.keepalive_interval);
  r.duration("keepalive_timeout", out.keepalive_timeout);
  r.uint32("max_stream_resets_per_second", out.max_stream_resets_per_second, 1, 1u << 20);
  r.uint32("max_stream_resets_burst", out.max_stream_resets_burst, 1, 1u << 20);
  r.finish();
}

}  // namespace sluice::config
