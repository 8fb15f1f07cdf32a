#pragma once
// The two messages of grpc.health.v1.Health/Check, in their gRPC framing,
// coded by hand (each is one protobuf field):
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }  SERVING = 1
// A gRPC message on the wire is a 5-byte prefix (compressed flag, 4-byte
// big-endian length) and the protobuf bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::upstream::grpc_health {

inline constexpr uint64_t kServing = 1;

// The framed HealthCheckRequest for `service` (empty: the server as a whole,
// sent as an empty message, as protobuf omits a default field).
std::string encodeRequest(std::string_view service);

// The status of the framed HealthCheckResponse that is all of `body`;
// nullopt when it is not exactly one uncompressed, well-formed message.
// Unknown fields are skipped (a newer server may add some); a missing
// status is UNKNOWN (0), protobuf's default.
std::optional<uint64_t> decodeResponseStatus(std::string_view body);

}  // namespace sluice::upstream::grpc_health
