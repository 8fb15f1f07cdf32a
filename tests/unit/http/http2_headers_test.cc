// Which fields HTTP/2 treats as connection-specific (RFC 9113 8.2.2): HTTP/1's
// hop-by-hop fields except TE, which travels on as "TE: trailers".
#include "proxy/http/http2_headers.h"

#include <gtest/gtest.h>

#include "proxy/http/hop_by_hop.h"

namespace sluice::http {
namespace {

TEST(Http2HeadersTest, ConnectionSpecificFieldsAreHttp1sHopByHopOnesButTe) {
  for (const char* name : {"connection", "Keep-Alive", "PROXY-CONNECTION", "transfer-encoding", "Upgrade"}) {
    EXPECT_TRUE(isConnectionSpecific(name)) << name;
    EXPECT_TRUE(isHopByHop(name)) << name;
  }
  EXPECT_FALSE(isConnectionSpecific("te"));
  EXPECT_TRUE(isHopByHop("TE"));
  for (const char* name : {"host", "content-length", "x-connection", "upgrades", "tx", ""}) {
    EXPECT_FALSE(isConnectionSpecific(name)) << name;
    EXPECT_FALSE(isHopByHop(name)) << name;
  }
}

}  // namespace
}  // namespace sluice::http
