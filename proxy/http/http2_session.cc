#include "proxy/http/http2_session.h"

#include <algorithm>

namespace sluice::http {

nghttp2_session* newHttp2Session(Http2Role role, void* user, const Http2SessionCallbacks& callbacks,
                                 const std::function<void(nghttp2_option*)>& tune) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_send_callback(cbs, callbacks.send);
  nghttp2_session_callbacks_set_send_data_callback(cbs, callbacks.send_data);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, callbacks.begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, callbacks.header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, callbacks.frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, callbacks.data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, callbacks.stream_close);
  if (callbacks.frame_send) nghttp2_session_callbacks_set_on_frame_send_callback(cbs, callbacks.frame_send);
  if (callbacks.begin_frame) nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, callbacks.begin_frame);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // nghttp2 keeps closed streams to root RFC 7540 priority trees, which a
  // proxy does not schedule by, at the cost of a stream object and tree
  // upkeep per request (5% of the proxy's CPU on h2-to-h2).
  nghttp2_option_set_no_closed_streams(opt, 1);
  if (tune) tune(opt);
  nghttp2_session* session = nullptr;
  nghttp2_mem mem = Http2Memory::table();
  if (role == Http2Role::Server) {
    nghttp2_session_server_new3(&session, cbs, user, opt, &mem);
  } else {
    nghttp2_session_client_new3(&session, cbs, user, opt, &mem);
  }
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  return session;
}

void submitHttp2Settings(nghttp2_session* session, std::span<const nghttp2_settings_entry> settings,
                         uint32_t connection_window) {
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  if (connection_window > 65535)
    nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, static_cast<int32_t>(connection_window));
}

ssize_t readBody(nghttp2_session* session, int32_t stream_id, size_t length, uint32_t* flags, const net::Buffer& body,
                 bool ended, bool& deferred, const HeaderMap* trailers, Http2HeaderBlock& block) {
  const size_t n = std::min(length, body.length());
  if (n == 0 && !ended) {
    deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (ended && n == body.length()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (trailers) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      const auto& nv = block.build(*trailers, Http2HeaderBlock::Kind::Trailers);
      nghttp2_submit_trailer(session, stream_id, nv.data(), nv.size());
    }
  }
  return static_cast<ssize_t>(n);
}

}  // namespace sluice::http
