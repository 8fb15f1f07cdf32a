#pragma once
// Header blocks for nghttp2: a HeaderMap as the name/value array nghttp2
// submits, following RFC 9113 8.2: connection-specific fields (Connection,
// Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade) dropped, TE kept
// only as "trailers". Shared by the server codec and the upstream HTTP/2 pool.
//
// The array points into the map, names in the case they were added with:
// nghttp2_submit_{request,response,headers,trailer} copy the array and
// lower-case the copy's names (nghttp2.h), which is RFC 9113 8.2.1's rule.
// So the array must never carry NGHTTP2_NV_FLAG_NO_COPY_NAME.

#include <nghttp2/nghttp2.h>

#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/header_map.h"

namespace sluice::http {

bool isConnectionSpecific(std::string_view name);

class Http2HeaderBlock {
 public:
  enum class Kind {
    Request,   // :method, :scheme, :authority, :path, then fields
    Response,  // :status, then fields
    Trailers,  // fields only
  };
  // The array for `h`, valid until the next build() or until `h` changes.
  // `scheme` fills a request's missing :scheme (HTTP/1 requests have none),
  // `authority` its missing :authority (an HTTP/1.0 request without Host).
  const std::vector<nghttp2_nv>& build(const HeaderMap& h, Kind kind, std::string_view scheme = "http",
                                       std::string_view authority = {});

 private:
  void add(std::string_view name, std::string_view value);
  std::vector<nghttp2_nv> nv_;
};

}  // namespace sluice::http
