// libFuzzer target: the gRPC message reader (proxy/grpc/message_reader.h),
// which reads the response bodies of the proxy's own gRPC calls (the
// control plane's ADS pushes, the CA's answers). The first byte picks how
// the rest is cut into DATA-sized pieces, the second the message bound.
// Checked: no message over the bound; while nothing failed, the messages
// framed again are exactly the bytes taken, and a message is pending
// exactly when bytes are left over.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/grpc/message_reader.h"

namespace {

std::string frame(const std::string& m) {
  const auto n = static_cast<uint32_t>(m.size());
  std::string out = {0, static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                     static_cast<char>(n)};
  return out + m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t piece = 1 + data[0] % 64;
  const size_t bound = size_t{data[1]} * 8;
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  sluice::grpc::MessageReader reader(bound);
  std::string reframed;
  for (size_t at = 0; at < body.size(); at += piece) {
    const bool ok = reader.feed(body.substr(at, std::min(piece, body.size() - at)));
    while (auto m = reader.next()) {
      if (m->size() > bound) std::abort();
      reframed += frame(*m);
    }
    if (!ok) {
      if (!reader.error()) std::abort();
      return 0;
    }
  }
  if (reader.error()) std::abort();
  if (body.substr(0, reframed.size()) != reframed) std::abort();
  if (reader.midMessage() != (reframed.size() < body.size())) std::abort();
  return 0;
}
