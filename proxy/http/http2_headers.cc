#include "proxy/http/http2_headers.h"

#include "proxy/http/hop_by_hop.h"

namespace sluice::http {

bool isConnectionSpecific(std::string_view name) {
  // HTTP/1's hop-by-hop fields, but TE: HTTP/2 keeps "TE: trailers" (RFC 9113 8.2.2).
  return name.size() != 2 && isHopByHop(name);
}

void Http2HeaderBlock::add(std::string_view n, std::string_view v) {
  // nghttp2 only reads through the pointers (see the header).
  nv_.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                 reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
}

const std::vector<nghttp2_nv>& Http2HeaderBlock::build(const HeaderMap& h, Kind kind, std::string_view scheme,
                                                       std::string_view authority) {
  nv_.clear();
  if (kind == Kind::Request) {
    add(headers::kMethod, h.method());
    add(headers::kScheme, h.get(headers::kScheme).value_or(scheme));
    if (auto a = h.get(headers::kAuthority)) {
      add(headers::kAuthority, *a);
    } else if (!authority.empty()) {
      add(headers::kAuthority, authority);
    }
    if (h.method() != "CONNECT") add(headers::kPath, h.path().empty() ? std::string_view("/") : h.path());
  } else if (kind == Kind::Response) {
    if (auto s = h.get(headers::kStatus)) add(headers::kStatus, *s);
  }
  h.forEachField([&](std::string_view n, std::string_view v) {
    if (n.empty() || isConnectionSpecific(n)) return;
    if (equalsIgnoreCase(n, "te")) {
      // 8.2.2: only "trailers" may travel, and gRPC needs it to.
      if (kind == Kind::Request && equalsIgnoreCase(v, "trailers")) add(n, v);
      return;
    }
    if (kind == Kind::Request && equalsIgnoreCase(n, "host")) return;  // :authority says it
    add(n, v);
  });
  return nv_;
}

}  // namespace sluice::http
