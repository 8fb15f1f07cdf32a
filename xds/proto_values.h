#pragma once
// Small conversions between the config model's values and the protobuf
// well-known types the Envoy v3 API uses, shared by every translator.

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/wrappers.pb.h>

#include <string>
#include <string_view>

#include "config/model.h"

namespace sluice::xds {

inline void toProto(config::Duration d, google::protobuf::Duration& out) {
  out.set_seconds(d.count() / 1000);
  out.set_nanos(static_cast<int32_t>((d.count() % 1000) * 1000000));
}

// Millisecond precision (the model's); false for a negative or out-of-range value.
inline bool fromProto(const google::protobuf::Duration& d, config::Duration& out) {
  if (d.seconds() < 0 || d.nanos() < 0 || d.nanos() > 999999999 || d.seconds() > 315576000000) return false;
  out = config::Duration(d.seconds() * 1000 + d.nanos() / 1000000);
  return true;
}

// A rejected field: where it is (below the resource, "filter_chains[0].filters[1]")
// and what is wrong. The resource's type and name are added by whoever knows them.
struct FieldError {
  std::string path;
  std::string message;
  bool empty() const { return message.empty(); }
  // "path: message"
  std::string str() const { return path.empty() ? message : path + ": " + message; }
};

// "prefix.name", "prefix[3]": paths for FieldError.
inline std::string fieldPath(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  return std::string(prefix) + "." + std::string(name);
}
inline std::string indexPath(std::string_view prefix, size_t i) {
  return std::string(prefix) + "[" + std::to_string(i) + "]";
}

}  // namespace sluice::xds
