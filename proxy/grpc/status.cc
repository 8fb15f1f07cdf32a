#include "proxy/grpc/status.h"

namespace sluice::grpc {

std::string codeName(int code) {
  static constexpr std::string_view kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  if (code >= 0 && code <= kUnauthenticated) return std::string(kNames[code]);
  return "code " + std::to_string(code);
}

std::string Status::text() const { return message.empty() ? codeName(code) : codeName(code) + ": " + message; }

}  // namespace sluice::grpc
