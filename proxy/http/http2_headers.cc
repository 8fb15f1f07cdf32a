#include "proxy/http/http2_headers.h"

#include "proxy/http/hop_by_hop.h"

namespace sluice::http {

bool isConnectionSpecific(std::string_view name) {
  // HTTP/1's hop-by-hop fields, but TE: HTTP/2 keeps "TE: trailers" (RFC 9113 8.2.2).
  return name.size() != 2 && isHopByHop(name);
}

void Http2HeaderBlock::add(std::string_view n, std::string_view v) {
  const size_t at = names_.size();
  names_.append(n);  // build() reserved room: one copy, then lower-cased in place
  for (char* ch = names_.data() + at; ch != names_.data() + names_.size(); ++ch) {
    if (*ch >= 'A' && *ch <= 'Z') *ch = static_cast<char>(*ch + 32);
  }
  nv_.push_back({reinterpret_cast<uint8_t*>(names_.data() + at),
                 reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
}

const std::vector<nghttp2_nv>& Http2HeaderBlock::build(const HeaderMap& h, Kind kind, std::string_view scheme,
                                                       std::string_view authority) {
  nv_.clear();
  names_.clear();
  size_t names = 0;
  h.forEach([&](std::string_view n, std::string_view) { names += n.size(); });
  // nv_ points into it: no reallocation below, even when every pseudo-header
  // added here is absent from the map.
  names_.reserve(names + headers::kMethod.size() + headers::kScheme.size() + headers::kAuthority.size() +
                 headers::kPath.size() + headers::kStatus.size());
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
  h.forEach([&](std::string_view n, std::string_view v) {
    if (n.empty() || n[0] == ':' || isConnectionSpecific(n)) return;
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
