// libFuzzer target: the TLS ClientHello reader (proxy/tls/client_hello.h),
// which reads the first bytes of every connection to a listener with filter
// chains. Whole input, then every prefix of it as the bytes so far.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/tls/client_hello.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  sluice::tls::ClientHelloInfo info;
  const auto status = sluice::tls::parseClientHello(all, info);
  // A complete hello read from a prefix stays complete, with the same facts.
  for (size_t n = 0; n < size; n += 1 + size / 64) {
    sluice::tls::ClientHelloInfo part;
    if (sluice::tls::parseClientHello(all.substr(0, n), part) == sluice::tls::ClientHelloStatus::Tls &&
        status == sluice::tls::ClientHelloStatus::Tls) {
      if (part.server_name != info.server_name || part.alpn != info.alpn) std::abort();
    }
  }
  return 0;
}
