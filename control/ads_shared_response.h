#pragma once
// One xDS response serialized once and written on every stream that sends
// it: all of a DiscoveryResponse's (or DeltaDiscoveryResponse's) fields but
// the nonce, in one immutable, refcounted gRPC slice.
//
// Protobuf's wire format makes a message the concatenation of its fields,
// in any order, so a stream's own response is that slice followed by its
// nonce field (field 5 in both messages): withNonce(n) parses as the
// message with nonce n. gRPC writes a ByteBuffer's slices as they are, so a
// push to every stream of a group serializes each body once and sends the
// same memory on each stream. Immutable after construction: any thread.

#include <google/protobuf/message_lite.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::control {

class SharedResponse {
 public:
  // Serializes `message`, whose nonce must be empty. `version` is what it
  // carries as version_info (system_version_info in delta), kept for the
  // streams' records.
  SharedResponse(const google::protobuf::MessageLite& message, std::string type_url, std::string version);

  const std::string& typeUrl() const { return type_url_; }
  const std::string& version() const { return version_; }
  // The shared bytes: every withNonce() starts with this very slice.
  const grpc::Slice& body() const { return body_; }

  // One stream's response as it goes on the wire: the shared body, then a
  // slice of its own holding the nonce field.
  grpc::ByteBuffer withNonce(std::string_view nonce) const;

 private:
  std::string type_url_;
  std::string version_;
  grpc::Slice body_;
};

}  // namespace sluice::control
