#pragma once
// Fields a proxy must not forward as is (RFC 9110 7.6.1): both codecs write
// their own framing and connection management. Inline and header-only so the
// HTTP/2 code, which never parses HTTP/1, does not link the HTTP/1 parser.

#include <string_view>

#include "proxy/http/header_map.h"

namespace sluice::http {

inline bool isHopByHop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return equalsIgnoreCase(name, "te");
    case 7:
      return equalsIgnoreCase(name, "upgrade");
    case 10:
      return equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive");
    case 16:
      return equalsIgnoreCase(name, "proxy-connection");
    case 17:
      return equalsIgnoreCase(name, "transfer-encoding");
    default:
      return false;
  }
}

}  // namespace sluice::http
