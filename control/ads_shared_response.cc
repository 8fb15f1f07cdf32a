#include "control/ads_shared_response.h"

#include <grpc/slice.h>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::control {

namespace {

namespace discovery = envoy::service::discovery::v3;

// The nonce is field 5, a length-delimited string, in both flavours.
constexpr int kNonceField = 5;
static_assert(discovery::DiscoveryResponse::kNonceFieldNumber == kNonceField);
static_assert(discovery::DeltaDiscoveryResponse::kNonceFieldNumber == kNonceField);
constexpr uint8_t kNonceTag = (kNonceField << 3) | 2;  // wire type 2: length-delimited

}  // namespace

SharedResponse::SharedResponse(const google::protobuf::MessageLite& message, std::string type_url, std::string version)
    : type_url_(std::move(type_url)), version_(std::move(version)) {
  // Written straight into gRPC's refcounted slice memory: no copy of the
  // bytes after this one, however many streams send them.
  const size_t size = message.ByteSizeLong();
  grpc_slice slice = grpc_slice_malloc(size);
  message.SerializeWithCachedSizesToArray(GRPC_SLICE_START_PTR(slice));
  body_ = grpc::Slice(slice, grpc::Slice::STEAL_REF);
}

grpc::ByteBuffer SharedResponse::withNonce(std::string_view nonce) const {
  std::string field;
  field.reserve(nonce.size() + 6);
  field.push_back(static_cast<char>(kNonceTag));
  for (size_t n = nonce.size(); true; n >>= 7) {  // the length, as a varint
    if (n < 0x80) {
      field.push_back(static_cast<char>(n));
      break;
    }
    field.push_back(static_cast<char>((n & 0x7f) | 0x80));
  }
  field.append(nonce);
  const grpc::Slice slices[] = {body_, grpc::Slice(field)};
  return grpc::ByteBuffer(slices, 2);
}

}  // namespace sluice::control
