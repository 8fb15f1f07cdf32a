#pragma once
// A gRPC call's outcome as the proxy's own gRPC clients report it: the code
// and the message, written "CODE: message" (the form the ADS client logs and
// the certificate agent shows in last_error).

#include <string>
#include <string_view>

namespace sluice::grpc {

// The canonical codes (google.rpc.Code), 0 to 16.
enum Code : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "UNAVAILABLE"; "code 17" for a number outside the table.
std::string codeName(int code);

struct Status {
  int code = kOk;
  std::string message;

  bool ok() const { return code == kOk; }
  // "UNAVAILABLE: connection refused", or the name alone without a message.
  std::string text() const;
};

}  // namespace sluice::grpc
