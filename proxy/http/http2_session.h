#pragma once
// The nghttp2 plumbing the server codec (http2_server_codec.cc) and the
// upstream HTTP/2 pool (proxy/upstream/http2_conn_pool.cc) share: a session
// with the callbacks both register, our first SETTINGS, and a stream's
// outgoing body read without copying. Loop thread of the session's owner.

#include <nghttp2/nghttp2.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <span>

#include "proxy/http/header_map.h"
#include "proxy/http/http2_headers.h"
#include "proxy/http/http2_memory.h"
#include "proxy/net/buffer.h"

namespace sluice::http {

struct Http2SessionCallbacks {
  nghttp2_send_callback send;
  nghttp2_send_data_callback send_data;
  nghttp2_on_begin_headers_callback begin_headers;
  nghttp2_on_header_callback header;
  nghttp2_on_frame_recv_callback frame_recv;
  nghttp2_on_data_chunk_recv_callback data_chunk;
  nghttp2_on_stream_close_callback stream_close;
  nghttp2_on_frame_send_callback frame_send = nullptr;    // optional
  nghttp2_on_begin_frame_callback begin_frame = nullptr;  // optional
};

enum class Http2Role { Server, Client };

// A new session whose callbacks get `user` and which allocates through
// the worker's lists (http2_memory.h). Flow-control
// windows are the owner's to give back (no automatic WINDOW_UPDATE): as the
// reader takes the bytes, not as they arrive. Closed streams are not kept
// (there is no RFC 7540 priority tree to root): a server session's owner
// recognises a HEADERS on a closed stream itself. `tune` sets the owner's
// other options.
nghttp2_session* newHttp2Session(Http2Role role, void* user, const Http2SessionCallbacks& callbacks,
                                 const std::function<void(nghttp2_option*)>& tune = {});

// Queues our SETTINGS, and widens the connection's receive window to
// `connection_window` when that is above the protocol's 65,535.
void submitHttp2Settings(nghttp2_session* session, std::span<const nghttp2_settings_entry> settings,
                         uint32_t connection_window);

// A stream's outgoing body, as a data source's read callback answers for
// it: up to `length` bytes of `body`, marked NO_COPY (the send_data
// callback moves them out of `body`: their one trip through user space);
// NGHTTP2_ERR_DEFERRED with `deferred` set while `body` is empty and more
// is to come (the owner resumes the stream when it comes); EOF with the
// last bytes once `ended`, `trailers` (when not null) submitted behind
// them, built in `block`.
ssize_t readBody(nghttp2_session* session, int32_t stream_id, size_t length, uint32_t* flags, const net::Buffer& body,
                 bool ended, bool& deferred, const HeaderMap* trailers, Http2HeaderBlock& block);

}  // namespace sluice::http
